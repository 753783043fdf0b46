"""Imported deals' ids in the product they came from, on the unit of work's connection."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.tables import deal_external_ids

_CHUNK = 500  # ids per query: well under every backend's limit of bound parameters


class ExternalIdRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def deals_of(self, source: str, external_ids: list[str]) -> dict[str, int]:
        t = deal_external_ids.c
        found: dict[str, int] = {}
        for start in range(0, len(external_ids), _CHUNK):
            chunk = external_ids[start : start + _CHUNK]
            rows = await self.conn.execute(
                select(t.external_id, t.deal_id).where(t.source == source, t.external_id.in_(chunk))
            )
            found.update({row.external_id: row.deal_id for row in rows})
        return found

    async def add(self, source: str, external_id: str, deal_id: int, *, at: datetime) -> None:
        await self.conn.execute(
            deal_external_ids.insert().values(
                source=source, external_id=external_id, deal_id=deal_id, imported_at=at
            )
        )
