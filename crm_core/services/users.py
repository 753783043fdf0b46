"""Managing the team: adding people, their settings, and deactivating those who leave."""

from __future__ import annotations

from crm_core.domain.deals import Actor
from crm_core.domain.errors import Conflict, InvalidInput, NotFound, Why
from crm_core.domain.notifications import NoteKind, Notification
from crm_core.domain.users import Role, User, valid_extension, valid_locale, valid_name, valid_timezone
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
            timezone=valid_timezone(timezone),
            locale=valid_locale(locale),
            extensions=tuple(dict.fromkeys(valid_extension(e) for e in extensions)),
        )
        async with self.db.uow() as uow:
            if await uow.users.by_telegram_id(telegram_id) is not None:
                raise Conflict(f"A user with Telegram id {telegram_id} already exists.")
            await self._check_extensions_free(uow, user)
            await uow.users.add(user, at=self.now())
            await uow.commit()
        return user

    async def _check_extensions_free(self, uow: UnitOfWork, user: User) -> None:
        for ext in user.extensions:
            owner_id = await uow.users.extension_owner(ext)
            if owner_id is not None and owner_id != user.id:
                raise Conflict(f"Extension {ext} already belongs to another user.")

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
                user.timezone = valid_timezone(timezone)
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
        if actor is not None:
            require_boss(actor, "change extensions")
        async with self.db.uow() as uow:
            user = await uow.users.by_telegram_id(telegram_id)
            if user is None:
                raise NotFound("user", telegram_id)
            user.extensions = tuple(dict.fromkeys(valid_extension(e) for e in extensions))
            await self._check_extensions_free(uow, user)
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
                    Notification(heir.id, NoteKind.DEAL_ASSIGNED, {"count": moved, "from_name": user.name}),
                    at=now,
                )
            user.active = False
            await uow.users.save(user)
            await uow.commit()
        return user, moved
