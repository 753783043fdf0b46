"""Personal API tokens: made, listed and revoked by their users; a request's bearer becomes its user.

A token acts as its user with exactly the user's access: the services it calls scope every query
by that user, as they do for the chat. A read token may not write.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm_core.domain.api_tokens import (
    IDEMPOTENCY_KEY_MOST,
    NAME_MOST,
    TOKEN_PREFIX,
    ApiToken,
    IdempotencyBusy,
    IdempotencyMismatch,
    NotAuthenticated,
    TokenScope,
    digest,
    new_secret,
)
from crm_core.domain.deals import Deal
from crm_core.domain.errors import Duplicate, InvalidInput, NotAllowed, NotFound, Why
from crm_core.domain.users import User
from crm_core.services.base import ServiceBase, find_pipeline, require_active
from crm_core.services.deals import _stage_of

LIFETIME = re.compile(r"^\s*(\d{1,5})\s*([dhw])\s*$")
LIFETIME_MOST = timedelta(days=3660)
PAGE_MOST = 100
TOUCH_EVERY = timedelta(minutes=1)  # how stale a token's "last used" may be, to spare a write a request


@dataclass(frozen=True, slots=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def lifetime(text: str | None) -> timedelta | None:
    """``90d``, ``12h``, ``2w`` as a duration; None for a token that never expires."""
    if text is None:
        return None
    found = LIFETIME.match(text)
    if not found:
        raise InvalidInput(
            "expires", text, detail='a number of days, hours or weeks, e.g. "90d", "12h", "2w"'
        )
    number, unit = int(found.group(1)), found.group(2)
    span = {"d": timedelta(days=number), "h": timedelta(hours=number), "w": timedelta(weeks=number)}[unit]
    if not timedelta(0) < span <= LIFETIME_MOST:
        raise InvalidInput("expires", text, detail="from 1 hour to 10 years")
    return span


class ApiTokenService(ServiceBase):
    async def create(
        self,
        *,
        actor: User,
        name: str,
        scope: TokenScope | str = TokenScope.WRITE,
        expires: str | None = None,
    ) -> NewToken:
        """A new token of the actor's: its secret is in the answer and nowhere else."""
        require_active(actor)
        clean = name.strip()
        if not clean:
            raise InvalidInput("name", name, Why.EMPTY)
        if len(clean) > NAME_MOST:
            raise InvalidInput("name", name, Why.TOO_LONG, most=NAME_MOST)
        try:
            kind = TokenScope(scope)
        except ValueError:
            raise InvalidInput("scope", scope, Why.ONE_OF, choices="read, write") from None
        span = lifetime(expires)
        now = self.now()
        secret = new_secret()
        async with self.db.uow() as uow:
            token_id = await uow.api_tokens.add(
                user_id=actor.id,
                name=clean,
                scope=kind,
                token_hash=digest(secret),
                at=now,
                expires_at=now + span if span is not None else None,
            )
            token = await uow.api_tokens.get(token_id)
            await uow.commit()
        assert token is not None
        return NewToken(token, secret)

    async def tokens(self, *, actor: User) -> list[ApiToken]:
        """The tokens the actor may see: a boss every one, a seller their own."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            return await uow.api_tokens.list(user_id=None if actor.is_boss else actor.id)

    async def revoke(self, *, token_id: int, actor: User) -> ApiToken:
        """Revoke a token at once: a boss any, a seller their own (another's is not found)."""
        require_active(actor)
        async with self.db.uow() as uow:
            token = await uow.api_tokens.get(token_id)
            if token is None or not (actor.is_boss or token.user_id == actor.id):
                raise NotFound("API token", token_id)
            await uow.api_tokens.revoke(token_id, at=self.now())
            revoked = await uow.api_tokens.get(token_id)
            await uow.commit()
        assert revoked is not None
        return revoked

    async def authenticate(self, secret: str | None) -> tuple[User, ApiToken]:
        """The active user behind a bearer token, and the token; ``NotAuthenticated`` otherwise."""
        if not secret:
            raise NotAuthenticated("no bearer token")
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            raise NotAuthenticated("not a Kanbot API token")
        now = self.now()
        async with self.db.uow(write=False) as uow:
            token = await uow.api_tokens.by_hash(digest(secret))
            user = await uow.users.get(token.user_id) if token is not None else None
        if token is None or user is None:
            raise NotAuthenticated("unknown token")
        if token.revoked_at is not None:
            raise NotAuthenticated("the token was revoked")
        if not token.usable_at(now):
            raise NotAuthenticated("the token has expired")
        if not user.active:
            raise NotAuthenticated("the token's user is deactivated")
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
            async with self.db.uow(bookkeeping=True) as uow:
                await uow.api_tokens.used(token.id, at=now)
                await uow.commit()
        return user, token

    @staticmethod
    def require_write(token: ApiToken) -> None:
        if token.scope is not TokenScope.WRITE:
            raise NotAllowed("write with a read-only token")

    async def once(
        self,
        *,
        token: ApiToken,
        key: str,
        fingerprint: str,
        answer: Callable[[], Awaitable[tuple[int, object]]],
    ) -> tuple[int, object]:
        """The answer to a write under an ``Idempotency-Key``: the first one's, kept, when the same key
        came before with the same request; ``answer()`` otherwise, kept for the retries."""
        if not key.strip() or len(key) > IDEMPOTENCY_KEY_MOST:
            raise InvalidInput("Idempotency-Key", key, Why.LENGTH, most=IDEMPOTENCY_KEY_MOST)
        try:
            async with self.db.uow() as uow:
                kept = await uow.api_tokens.claim_key(token.id, key, fingerprint=fingerprint, at=self.now())
                await uow.commit()
        except Duplicate:  # taken meanwhile by the same request sent twice at once
            async with self.db.uow(write=False) as uow:
                kept = await uow.api_tokens.claim_key(token.id, key, fingerprint=fingerprint, at=self.now())
        if kept is not None:
            if kept.fingerprint != fingerprint:
                raise IdempotencyMismatch(key)
            if kept.status is None:
                raise IdempotencyBusy(key)
            return kept.status, kept.body
        try:
            status, body = await answer()
        except BaseException:
            await self._release(token, key)
            raise
        if status >= 500:  # the server's trouble (the database away), not an answer: a retry runs afresh
            await self._release(token, key)
            return status, body
        async with self.db.uow(bookkeeping=True) as uow:
            await uow.api_tokens.keep_answer(token.id, key, status=status, body=body)
            await uow.commit()
        return status, body

    async def _release(self, token: ApiToken, key: str) -> None:
        async with self.db.uow(bookkeeping=True) as uow:
            await uow.api_tokens.release_key(token.id, key)
            await uow.commit()

    async def deals_page(
        self,
        *,
        actor: User,
        after_id: int = 0,
        limit: int = 50,
        pipeline: str | int | None = None,
        stage: str | int | None = None,
        owner_telegram_id: int | None = None,
        updated_since: datetime | None = None,
    ) -> tuple[list[Deal], bool]:
        """A page of the deals the actor may see, by id after ``after_id``; whether more follow."""
        require_active(actor)
        if not 1 <= limit <= PAGE_MOST:
            raise InvalidInput("limit", limit, Why.WHOLE_NUMBER, most=PAGE_MOST)
        async with self.db.uow(write=False) as uow:
            funnel = await find_pipeline(uow, pipeline) if pipeline is not None else None
            stage_id = (await _stage_of(uow, stage, pipeline)).id if stage is not None else None
            owner_id = None
            if owner_telegram_id is not None:
                if not actor.is_boss and owner_telegram_id != actor.telegram_id:
                    raise NotAllowed("look at another seller's deals")
                owner = await uow.users.by_telegram_id(owner_telegram_id)
                if owner is None:
                    raise NotFound("user", owner_telegram_id)
                owner_id = owner.id
            found = await uow.deal_pages.page(
                viewer=actor,
                after_id=after_id,
                limit=limit + 1,
                pipeline_id=funnel.id if funnel is not None else None,
                stage_id=stage_id,
                owner_id=owner_id,
                updated_since=updated_since,
            )
        return found[:limit], len(found) > limit
