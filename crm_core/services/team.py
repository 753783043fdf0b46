"""Joining the team by invitation: a boss invites, the newcomer redeems the code once."""

from __future__ import annotations

import secrets
from datetime import timedelta

from crm_core.domain.conversations import Invite
from crm_core.domain.errors import ExtensionTaken, InvalidInput, NotFound, Why
from crm_core.domain.notifications import InviteUsed, Notification
from crm_core.domain.users import Role, User, valid_extensions, valid_locale, valid_name
from crm_core.services.base import ServiceBase, require_boss
from crm_core.services.users import free_extensions

INVITE_LIFETIME = timedelta(days=7)


class InviteService(ServiceBase):
    async def create(self, *, role: Role, actor: User, extensions: tuple[str, ...] = ()) -> Invite:
        """A single-use invitation for a new seller or boss, valid for seven days, giving them these
        PBX extensions (refused when another active user has one)."""
        require_boss(actor, "invite people")
        now = self.now()
        invite = Invite(
            id=0,
            code=secrets.token_urlsafe(12),
            role=role,
            created_by_id=actor.id,
            created_at=now,
            expires_at=now + INVITE_LIFETIME,
            extensions=valid_extensions(extensions),
        )
        async with self.db.uow() as uow:
            await free_extensions(uow, invite.extensions, for_user_id=None)
            await uow.invites.add(invite)
            await uow.commit()
        return invite

    async def check_extensions(self, extensions: tuple[str, ...], *, actor: User) -> tuple[str, ...]:
        """The extensions an invitation may give: each valid, none another active user's."""
        require_boss(actor, "invite people")
        checked = valid_extensions(extensions)
        async with self.db.uow(write=False) as uow:
            for ext in checked:
                holder = await uow.users.by_extension(ext)
                if holder is not None and holder.active:
                    raise ExtensionTaken(ext, holder.name)
        return checked

    async def redeem(
        self, *, code: str, telegram_id: int, name: str, language_code: str | None = None
    ) -> User:
        """Register the person behind ``telegram_id`` with the invitation's role and extensions (once
        per code), and tell the boss who made it. An extension someone else got meanwhile is left out,
        and the boss told so."""
        now = self.now()
        if not code or len(code) > 64:
            raise InvalidInput("invitation", code, Why.NOT_VALID)
        async with self.db.uow() as uow:
            invite = await uow.invites.by_code(code)
            if invite is None or not invite.usable(now):
                raise InvalidInput("invitation", code, Why.INVITE_UNUSABLE)
            user = await uow.users.by_telegram_id(telegram_id)
            if user is None:
                locale = _locale_or_english(language_code)
                user = User(
                    id=0,
                    telegram_id=telegram_id,
                    name=valid_name(name or str(telegram_id)),
                    role=invite.role,
                    locale=locale,
                )
                await uow.users.add(user, at=now)
            else:
                user.role, user.active = invite.role, True
                await uow.users.save(user)
            if not await uow.invites.mark_used(invite.id, user_id=user.id, at=now):
                raise InvalidInput("invitation", code, Why.INVITE_JUST_USED)
            given, taken = [], []
            for ext in invite.extensions:
                try:
                    await free_extensions(uow, (ext,), for_user_id=user.id)
                except ExtensionTaken:
                    taken.append(ext)
                else:
                    given.append(ext)
            if given:
                user.extensions = tuple(dict.fromkeys((*user.extensions, *given)))
                await uow.users.set_extensions(user)
            payload = InviteUsed(
                user_id=user.id, name=user.name, role=user.role, extensions=tuple(given), taken=tuple(taken)
            )
            await uow.outbox.put(Notification(invite.created_by_id, payload), at=now)
            await uow.commit()
        return user

    async def pending(self, *, actor: User) -> list[Invite]:
        require_boss(actor, "see invitations")
        async with self.db.uow(write=False) as uow:
            return await uow.invites.pending(self.now())

    async def revoke(self, *, invite_id: int, actor: User) -> None:
        require_boss(actor, "revoke invitations")
        async with self.db.uow() as uow:
            if not await uow.invites.revoke(invite_id, at=self.now()):
                raise NotFound("invitation", invite_id)
            await uow.commit()


def _locale_or_english(language_code: str | None) -> str:
    try:
        return valid_locale(language_code or "en")
    except InvalidInput:
        return "en"
