"""Managing the team: adding people, their settings, and deactivating those who leave."""

from __future__ import annotations

from crm_core.domain.errors import Conflict, ExtensionTaken, InvalidInput, NotFound, Why
from crm_core.domain.history import Actor
from crm_core.domain.notifications import DealAssigned, Notification
from crm_core.domain.users import (
    Role,
    User,
    valid_extensions,
    valid_locale,
    valid_name,
    valid_role,
)
from crm_core.domain.zones import resolve_timezone
from crm_core.services.base import ServiceBase, require_active, require_boss
from crm_core.services.unit_of_work import UnitOfWork


class UserService(ServiceBase):
    async def add(
        self,
        *,
        telegram_id: int,
        name: str,
        role: Role,
        extensions: tuple[str, ...] = (),
        timezone: str = "UTC",
        locale: str = "en",
        actor: User | None = None,
    ) -> User:
        """Register a person; ``actor=None`` is the admin at the command line."""
        if actor is not None:
            require_boss(actor, "add people to the team")
        if not 0 < telegram_id < 2**52:
            raise InvalidInput("telegram id", telegram_id)
        user = User(
            id=0,
            telegram_id=telegram_id,
            name=valid_name(name),
            role=role,
            timezone=resolve_timezone(timezone),
            locale=valid_locale(locale),
            extensions=valid_extensions(extensions),
        )
        async with self.db.uow() as uow:
            if await uow.users.by_telegram_id(telegram_id) is not None:
                raise Conflict(f"A user with Telegram id {telegram_id} already exists.")
            await free_extensions(uow, user.extensions, for_user_id=None)
            await uow.users.add(user, at=self.now())
            await uow.commit()
        return user

    async def edit(
        self,
        *,
        telegram_id: int,
        name: str | None = None,
        role: str | None = None,
        extensions: tuple[str, ...] | None = None,
        timezone: str | None = None,
        locale: str | None = None,
        actor: User | None = None,
    ) -> User:
        """Change what is given of a person's name, role, extensions (replacing the old ones), time
        zone and language: all of it or, when one value is refused, nothing."""
        if actor is not None:
            require_boss(actor, "change other people's settings")
        new_name = valid_name(name) if name is not None else None
        new_role = valid_role(role) if role is not None else None
        new_extensions = valid_extensions(extensions) if extensions is not None else None
        new_zone = resolve_timezone(timezone) if timezone is not None else None
        new_locale = valid_locale(locale) if locale is not None else None
        async with self.db.uow() as uow:
            user = await uow.users.by_telegram_id(telegram_id)
            if user is None:
                raise NotFound("user", telegram_id)
            if new_role is Role.SELLER and user.is_boss and user.active:
                bosses = await uow.users.list(role=Role.BOSS, active=True)
                if all(b.id == user.id for b in bosses):
                    raise InvalidInput("role", role, Why.LAST_BOSS)
            user.name = new_name or user.name
            user.role = new_role or user.role
            user.timezone = new_zone or user.timezone
            user.locale = new_locale or user.locale
            await uow.users.save(user, locale_chosen=True if new_locale is not None else None)
            if new_extensions is not None:
                await free_extensions(uow, new_extensions, for_user_id=user.id)
                user.extensions = new_extensions
                await uow.users.set_extensions(user)
            await uow.commit()
        return user

    async def ensure_boss(self, *, telegram_id: int, name: str) -> User:
        """Make ``telegram_id`` an active boss (`kanbot init --boss-telegram-id`, KANBOT_BOSS_IDS)."""
        async with self.db.uow() as uow:
            user = await uow.users.by_telegram_id(telegram_id)
            if user is None:
                user = User(id=0, telegram_id=telegram_id, name=valid_name(name), role=Role.BOSS)
                await uow.users.add(user, at=self.now())
            elif not user.is_boss or not user.active:
                user.role, user.active = Role.BOSS, True
                await uow.users.save(user)
            await uow.commit()
        return user

    async def by_telegram_id(self, telegram_id: int) -> User | None:
        async with self.db.uow(write=False) as uow:
            return await uow.users.by_telegram_id(telegram_id)

    async def get(self, user_id: int) -> User | None:
        async with self.db.uow(write=False) as uow:
            return await uow.users.get(user_id)

    async def identify(self, telegram_id: int) -> User:
        """The active user behind a Telegram id, or ``NotFound``."""
        user = await self.by_telegram_id(telegram_id)
        if user is None or not user.active:
            raise NotFound("user", telegram_id)
        return user

    async def list(
        self, *, actor: User | None = None, role: Role | None = None, active: bool | None = None
    ) -> list[User]:
        """The team; sellers see only themselves."""
        if actor is not None:
            require_active(actor)
            if not actor.is_boss:
                return [actor]
        async with self.db.uow(write=False) as uow:
            return await uow.users.list(role=role, active=active)

    async def update_preferences(
        self, *, actor: User, locale: str | None = None, timezone: str | None = None
    ) -> User:
        """A user's own language and time zone."""
        async with self.db.uow() as uow:
            user = await uow.users.get(actor.id)
            if user is None:
                raise NotFound("user", actor.telegram_id)
            if locale is not None:
                user.locale = valid_locale(locale)
            if timezone is not None:
                user.timezone = resolve_timezone(timezone)
            await uow.users.save(user, locale_chosen=True if locale is not None else None)
            await uow.commit()
        return user

    async def adopt_locale(self, user: User, language_code: str | None) -> User:
        """Follow the Telegram app's language until the user picks one with /lang."""
        if not language_code:
            return user
        try:
            locale = valid_locale(language_code)
        except InvalidInput:
            return user
        if locale == user.locale:
            return user
        async with self.db.uow(bookkeeping=True) as uow:  # the same language again changes nothing
            if await uow.users.locale_chosen(user.id):
                return user
            user.locale = locale
            await uow.users.save(user)
            await uow.commit()
        return user

    async def set_extensions(
        self, *, telegram_id: int, extensions: tuple[str, ...], actor: User | None = None
    ) -> User:
        """Give a person these PBX extensions in place of the ones they had."""
        if actor is not None:
            require_boss(actor, "change extensions")
        async with self.db.uow() as uow:
            user = await uow.users.by_telegram_id(telegram_id)
            if user is None:
                raise NotFound("user", telegram_id)
            user.extensions = valid_extensions(extensions)
            await free_extensions(uow, user.extensions, for_user_id=user.id)
            await uow.users.set_extensions(user)
            await uow.commit()
        return user

    async def mark_blocked(self, user_id: int, *, blocked: bool) -> None:
        """Remember that the user blocked the bot (or came back), so nothing is retried in vain."""
        async with self.db.uow(bookkeeping=True) as uow:
            user = await uow.users.get(user_id)
            if user is not None and user.blocked_bot != blocked:
                user.blocked_bot = blocked
                await uow.users.save(user)
                await uow.commit()

    async def deactivate(
        self, *, telegram_id: int, actor: User | None = None, hand_over_to: int | None = None
    ) -> tuple[User, int]:
        """Deactivate a user; their open deals go to ``hand_over_to`` (a Telegram id) or to nobody.

        Returns the user and how many deals changed hands.
        """
        if actor is not None:
            require_boss(actor, "deactivate people")
        now = self.now()
        async with self.db.uow() as uow:
            user = await uow.users.by_telegram_id(telegram_id)
            if user is None:
                raise NotFound("user", telegram_id)
            heir = None
            if hand_over_to is not None:
                heir = await uow.users.by_telegram_id(hand_over_to)
                if heir is None or not heir.active or heir.id == user.id:
                    raise InvalidInput("new owner", hand_over_to, Why.HAND_OVER)
            who = Actor.of(actor) if actor else Actor.system_because("admin: user deactivated")
            moved = 0
            for deal_id in await uow.deals.open_deal_ids_of_owner(user.id):
                deal = await uow.deals.get(deal_id)
                assert deal is not None
                await uow.events.add(deal.reassign(heir, at=now, actor=who))
                await uow.deals.save(deal)
                await uow.tasks.reassign_open(deal_id=deal.id, assignee_id=heir.id if heir else None)
                moved += 1
            if heir is not None and moved:
                await uow.outbox.put(
                    Notification(heir.id, DealAssigned(count=moved, from_name=user.name)),
                    at=now,
                )
            user.active = False
            await uow.users.save(user)
            await uow.commit()
        return user, moved


async def free_extensions(uow: UnitOfWork, extensions: tuple[str, ...], *, for_user_id: int | None) -> None:
    """Refuse an extension another active user has (``ExtensionTaken``, naming them); one left with
    someone deactivated is taken from them, so it can ring the newcomer."""
    for ext in extensions:
        holder = await uow.users.by_extension(ext)
        if holder is None or holder.id == for_user_id:
            continue
        if holder.active:
            raise ExtensionTaken(ext, holder.name)
        await uow.users.release_extension(ext)
