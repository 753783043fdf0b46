"""API tokens, the answers kept under idempotency keys, and the API's pages of deals."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from crm_core.domain.api_tokens import ApiToken, Recorded, TokenScope
from crm_core.domain.deals import Deal
from crm_core.domain.users import User


class ApiTokens(Protocol):
    async def add(
        self,
        *,
        user_id: int,
        name: str,
        scope: TokenScope,
        token_hash: str,
        at: datetime,
        expires_at: datetime | None,
    ) -> int: ...

    async def get(self, token_id: int) -> ApiToken | None: ...

    async def by_hash(self, token_hash: str) -> ApiToken | None: ...

    async def list(self, *, user_id: int | None) -> list[ApiToken]:
        """Every token (``user_id`` None) or one user's, oldest first."""
        ...

    async def revoke(self, token_id: int, *, at: datetime) -> None: ...

    async def used(self, token_id: int, *, at: datetime) -> None: ...

    async def claim_key(self, token_id: int, key: str, *, fingerprint: str, at: datetime) -> Recorded | None:
        """Take the key for a request (None), or what was kept under it when taken before."""
        ...

    async def keep_answer(self, token_id: int, key: str, *, status: int, body: object) -> None: ...

    async def release_key(self, token_id: int, key: str) -> None:
        """Give a key back (its request failed for reasons of the server's): a retry runs afresh."""
        ...


class DealPages(Protocol):
    async def page(
        self,
        *,
        viewer: User,
        after_id: int,
        limit: int,
        pipeline_id: int | None,
        stage_id: int | None,
        owner_id: int | None,
        updated_since: datetime | None,
    ) -> list[Deal]:
        """The viewer's deals with an id above ``after_id``, by id, at most ``limit``; ``updated_since``:
        only those active or changed (a history event) since then."""
        ...
