"""API tokens and the answers kept under idempotency keys; the API's pages of deals (a viewer's scope)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.repositories.deal_rows import deal_select, deals_from_rows, visible_to
from crm_core.adapters.tables import api_idempotency, api_tokens, deal_events, deals, users
from crm_core.domain.api_tokens import ApiToken, Recorded, TokenScope
from crm_core.domain.deals import Deal
from crm_core.domain.users import User

_t, _k = api_tokens.c, api_idempotency.c
_TOKEN = select(
    _t.id,
    _t.user_id,
    users.c.telegram_id,
    users.c.name.label("user_name"),
    _t.name,
    _t.scope,
    _t.created_at,
    _t.expires_at,
    _t.revoked_at,
    _t.last_used_at,
).select_from(api_tokens.join(users, users.c.id == _t.user_id))


def _token(row: Any) -> ApiToken:
    return ApiToken(
        id=row.id,
        user_id=row.user_id,
        user_telegram_id=row.telegram_id,
        user_name=row.user_name,
        name=row.name,
        scope=TokenScope(row.scope),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


class ApiTokenRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(
        self,
        *,
        user_id: int,
        name: str,
        scope: TokenScope,
        token_hash: str,
        at: datetime,
        expires_at: datetime | None,
    ) -> int:
        done = await self.conn.execute(
            api_tokens.insert()
            .values(
                user_id=user_id,
                name=name,
                scope=scope.value,
                token_hash=token_hash,
                created_at=at,
                expires_at=expires_at,
            )
            .returning(_t.id)
        )
        return int(done.scalar_one())

    async def get(self, token_id: int) -> ApiToken | None:
        row = (await self.conn.execute(_TOKEN.where(_t.id == token_id))).first()
        return _token(row) if row is not None else None

    async def by_hash(self, token_hash: str) -> ApiToken | None:
        row = (await self.conn.execute(_TOKEN.where(_t.token_hash == token_hash))).first()
        return _token(row) if row is not None else None

    async def list(self, *, user_id: int | None) -> list[ApiToken]:
        stmt = _TOKEN.order_by(_t.id)
        if user_id is not None:
            stmt = stmt.where(_t.user_id == user_id)
        return [_token(row) for row in await self.conn.execute(stmt)]

    async def revoke(self, token_id: int, *, at: datetime) -> None:
        await self.conn.execute(
            api_tokens.update().where(_t.id == token_id, _t.revoked_at.is_(None)).values(revoked_at=at)
        )

    async def used(self, token_id: int, *, at: datetime) -> None:
        await self.conn.execute(api_tokens.update().where(_t.id == token_id).values(last_used_at=at))

    async def claim_key(self, token_id: int, key: str, *, fingerprint: str, at: datetime) -> Recorded | None:
        row = (
            await self.conn.execute(
                select(_k.fingerprint, _k.status, _k.body).where(_k.token_id == token_id, _k.key == key)
            )
        ).first()
        if row is not None:
            return Recorded(row.fingerprint, row.status, row.body)
        await self.conn.execute(
            api_idempotency.insert().values(
                token_id=token_id, key=key, fingerprint=fingerprint, created_at=at
            )
        )
        return None

    async def keep_answer(self, token_id: int, key: str, *, status: int, body: object) -> None:
        await self.conn.execute(
            api_idempotency.update()
            .where(_k.token_id == token_id, _k.key == key)
            .values(status=status, body=body)
        )

    async def release_key(self, token_id: int, key: str) -> None:
        await self.conn.execute(
            api_idempotency.delete().where(_k.token_id == token_id, _k.key == key, _k.status.is_(None))
        )


class DealPageRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

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
        stmt = deal_select().where(deals.c.id > after_id).order_by(deals.c.id).limit(limit)
        if pipeline_id is not None:
            stmt = stmt.where(deals.c.pipeline_id == pipeline_id)
        if stage_id is not None:
            stmt = stmt.where(deals.c.stage_id == stage_id)
        if owner_id is not None:
            stmt = stmt.where(deals.c.owner_id == owner_id)
        if updated_since is not None:
            changed = exists().where(deal_events.c.deal_id == deals.c.id, deal_events.c.at >= updated_since)
            stmt = stmt.where(or_(deals.c.last_activity_at >= updated_since, changed))
        return deals_from_rows(await self.conn.execute(visible_to(stmt, viewer)))
