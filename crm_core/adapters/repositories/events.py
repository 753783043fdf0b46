"""A deal's history: the append-only events, with the name of who did each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import Row, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.tables import deal_events, users
from crm_core.domain.history import STAGE_EVENTS, DealEvent, EventKind

actors = users.alias("actor")


class EventRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, *events: DealEvent) -> None:
        if not events:
            return
        await self.conn.execute(
            _ADD,
            [
                {
                    "deal_id": e.deal_id,
                    "kind": e.kind.value,
                    "at": e.at,
                    "actor_id": e.actor_id,
                    "actor_system": e.actor_system,
                    "from_stage_id": e.from_stage_id,
                    "to_stage_id": e.to_stage_id,
                    "data": e.data,
                    "undoes_event_id": e.undoes_id,
                }
                for e in events
            ],
        )

    async def history(
        self, deal_id: int, *, limit: int | None = None, newest_first: bool = False
    ) -> list[DealEvent]:
        order = (
            (deal_events.c.at.desc(), deal_events.c.id.desc())
            if newest_first
            else (deal_events.c.at, deal_events.c.id)
        )
        stmt = (
            select(deal_events, actors.c.name.label("actor_name"))
            .select_from(deal_events.outerjoin(actors, actors.c.id == deal_events.c.actor_id))
            .where(deal_events.c.deal_id == deal_id)
            .order_by(*order)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return [_event_from_row(r) for r in await self.conn.execute(stmt)]

    async def stage_history(self, deal_id: int) -> list[DealEvent]:
        """The deal's stage events (created, moved, won, lost, reopened), oldest first."""
        rows = await self.conn.execute(
            _STAGE_HISTORY, {"deal_id": deal_id, "kinds": [k.value for k in STAGE_EVENTS]}
        )
        return [_event_from_row(r) for r in rows]

    async def last_of(self, deal_id: int, kinds: Sequence[EventKind]) -> DealEvent | None:
        params = {"deal_id": deal_id, "kinds": [k.value for k in kinds]}
        row = (await self.conn.execute(_LAST_OF, params)).first()
        return _event_from_row(row) if row else None


def _event_from_row(row: Row[Any]) -> DealEvent:
    return DealEvent(
        id=row.id,
        deal_id=row.deal_id,
        kind=EventKind(row.kind),
        at=row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC),
        actor_id=row.actor_id,
        actor_system=row.actor_system,
        from_stage_id=row.from_stage_id,
        to_stage_id=row.to_stage_id,
        data=dict(row.data or {}),
        actor_name=row.actor_name,
        undoes_id=row.undoes_event_id,
    )


# Built once, with bound parameters (a move writes its event and reads the stage history; every card
# shows the latest note).
_ADD = insert(deal_events)
_STAGE_HISTORY = (
    select(deal_events, actors.c.name.label("actor_name"))
    .select_from(deal_events.outerjoin(actors, actors.c.id == deal_events.c.actor_id))
    .where(
        deal_events.c.deal_id == bindparam("deal_id"),
        deal_events.c.kind.in_(bindparam("kinds", expanding=True)),
    )
    .order_by(deal_events.c.at, deal_events.c.id)
)
_LAST_OF = (
    select(deal_events, actors.c.name.label("actor_name"))
    .select_from(deal_events.outerjoin(actors, actors.c.id == deal_events.c.actor_id))
    .where(
        deal_events.c.deal_id == bindparam("deal_id"),
        deal_events.c.kind.in_(bindparam("kinds", expanding=True)),
    )
    .order_by(deal_events.c.at.desc(), deal_events.c.id.desc())
    .limit(1)
)
