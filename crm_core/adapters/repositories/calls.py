"""Calls, unique per (provider, external id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.tables import calls
from crm_core.domain.calls import CallDirection, CallEvent, CallStatus


@dataclass(slots=True)
class CallRecord:
    id: int
    provider: str
    external_id: str
    direction: CallDirection
    status: CallStatus
    caller: str | None
    answered_by_ext: str | None
    answered_by_id: int | None
    started_at: datetime
    ended_at: datetime | None
    duration_s: int | None
    deal_id: int | None

    @property
    def is_final(self) -> bool:
        return self.ended_at is not None


def _record(row: Row[Any]) -> CallRecord:
    return CallRecord(
        id=row.id,
        provider=row.provider,
        external_id=row.external_id,
        direction=CallDirection(row.direction),
        status=CallStatus(row.status),
        caller=row.caller,
        answered_by_ext=row.answered_by_ext,
        answered_by_id=row.answered_by_id,
        started_at=row.started_at,
        ended_at=row.ended_at,
        duration_s=row.duration_s,
        deal_id=row.deal_id,
    )


class CallRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def find(self, provider: str, external_id: str) -> CallRecord | None:
        row = (
            await self.conn.execute(
                select(calls).where(calls.c.provider == provider, calls.c.external_id == external_id)
            )
        ).first()
        return _record(row) if row else None

    def _values(self, event: CallEvent) -> dict[str, Any]:
        return {
            "direction": event.direction.value,
            "status": event.status.value,
            "caller": event.caller,
            "dialed": event.dialed,
            "answered_by_ext": event.answered_by,
            "rang": list(event.rang),
            "transfers": list(event.transfers),
            "started_at": event.started_at,
            "answered_at": event.answered_at,
            "ended_at": event.ended_at,
            "duration_s": event.duration_s,
        }

    async def add(
        self, event: CallEvent, *, deal_id: int | None, answered_by_id: int | None, at: datetime
    ) -> int:
        result = await self.conn.execute(
            insert(calls).values(
                provider=event.provider,
                external_id=event.call_id,
                deal_id=deal_id,
                answered_by_id=answered_by_id,
                created_at=at,
                **self._values(event),
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    async def complete(
        self, call_id: int, event: CallEvent, *, deal_id: int | None, answered_by_id: int | None
    ) -> None:
        await self.conn.execute(
            update(calls)
            .where(calls.c.id == call_id)
            .values(deal_id=deal_id, answered_by_id=answered_by_id, **self._values(event))
        )

    async def get(self, call_id: int) -> CallRecord | None:
        row = (await self.conn.execute(select(calls).where(calls.c.id == call_id))).first()
        return _record(row) if row else None

    async def link(self, call_id: int, deal_id: int) -> None:
        await self.conn.execute(update(calls).where(calls.c.id == call_id).values(deal_id=deal_id))

    async def of_deal(self, deal_id: int, *, limit: int = 20) -> list[CallRecord]:
        rows = await self.conn.execute(
            select(calls).where(calls.c.deal_id == deal_id).order_by(calls.c.started_at.desc()).limit(limit)
        )
        return [_record(r) for r in rows]
