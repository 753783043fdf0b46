"""Outgoing webhooks: endpoints, the dispatcher's cursors over the CRM's own tables, the deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, exists, func, null, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from crm_core.adapters.sqlfunc import upsert
from crm_core.adapters.tables import (
    calls,
    contacts,
    deal_events,
    tasks,
    users,
    webhook_cursors,
    webhook_deliveries,
    webhook_endpoints,
)
from crm_core.domain.webhooks import (
    DEAL_EVENT_NAMES,
    Delivery,
    DeliveryStatus,
    Endpoint,
    Happening,
)

_e, _d = webhook_endpoints.c, webhook_deliveries.c
_SOURCES: dict[str, Table] = {
    "deal_events": deal_events,
    "contacts": contacts,
    "tasks": tasks,
    "calls": calls,
}
_DELIVERY = select(webhook_deliveries, _e.url).select_from(
    webhook_deliveries.join(webhook_endpoints, _e.id == _d.endpoint_id)
)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(row.id, row.url, tuple(row.events), row.secret, row.created_at)


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        endpoint_id=row.endpoint_id,
        url=row.url,
        event=row.event,
        order_key=row.order_key,
        subject_id=row.subject_id,
        occurred_at=row.occurred_at,
        data=row.data,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_try_at=row.next_try_at,
        last_error=row.last_error,
        created_at=row.created_at,
        settled_at=row.settled_at,
    )


def contact_data(row: Any) -> dict[str, object]:
    return {
        "id": row.id,
        "name": row.name,
        "phone": row.phone,
        "company": row.company,
        "created_at": _iso(row.created_at),
    }


def task_data(row: Any) -> dict[str, object]:
    return {
        "id": row.id,
        "deal_id": row.deal_id,
        "assignee": {"telegram_id": row.assignee_telegram_id, "name": row.assignee_name}
        if row.assignee_telegram_id is not None
        else None,
        "due_at": _iso(row.due_at),
        "text": row.text,
        "kind": row.kind,
        "created_at": _iso(row.created_at),
        "done_at": _iso(row.done_at),
        "phone": row.phone,
    }


def call_data(row: Any) -> dict[str, object]:
    return {
        "id": row.id,
        "provider": row.provider,
        "call_id": row.external_id,
        "direction": row.direction,
        "status": row.status,
        "caller": row.caller,
        "dialed": row.dialed,
        "answered_by_extension": row.answered_by_ext,
        "started_at": _iso(row.started_at),
        "answered_at": _iso(row.answered_at),
        "ended_at": _iso(row.ended_at),
        "duration_s": row.duration_s,
        "deal_id": row.deal_id,
    }


def _tasks() -> Select[Any]:
    return select(
        tasks, users.c.telegram_id.label("assignee_telegram_id"), users.c.name.label("assignee_name")
    ).select_from(tasks.outerjoin(users, users.c.id == tasks.c.assignee_id))


class WebhookRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add_endpoint(self, *, url: str, events: tuple[str, ...], secret: str, at: datetime) -> int:
        done = await self.conn.execute(
            webhook_endpoints.insert()
            .values(url=url, events=list(events), secret=secret, created_at=at)
            .returning(_e.id)
        )
        return int(done.scalar_one())

    async def endpoint(self, endpoint_id: int) -> Endpoint | None:
        row = (
            await self.conn.execute(
                select(webhook_endpoints).where(_e.id == endpoint_id, _e.removed_at.is_(None))
            )
        ).first()
        return _endpoint(row) if row is not None else None

    async def endpoints(self) -> list[Endpoint]:
        stmt = select(webhook_endpoints).where(_e.removed_at.is_(None)).order_by(_e.id)
        return [_endpoint(row) for row in await self.conn.execute(stmt)]

    async def remove_endpoint(self, endpoint_id: int, *, at: datetime) -> None:
        await self.conn.execute(webhook_endpoints.update().where(_e.id == endpoint_id).values(removed_at=at))
        await self.conn.execute(
            webhook_deliveries.update()
            .where(_d.endpoint_id == endpoint_id, _d.status == DeliveryStatus.PENDING.value)
            .values(status=DeliveryStatus.FAILED.value, settled_at=at, last_error="endpoint removed")
        )

    async def cursor(self, source: str) -> int | None:
        # Locked to the end of the dispatch (PostgreSQL; SQLite's writer is one at a time anyway):
        # two processes dispatching at once take turns instead of both queuing the same news.
        found = await self.conn.scalar(
            select(webhook_cursors.c.last_id).where(webhook_cursors.c.source == source).with_for_update()
        )
        return int(found) if found is not None else None

    async def set_cursor(self, source: str, last_id: int) -> None:
        # The first dispatches of two processes may both start the cursor: the later one's stands.
        stmt = upsert(self.conn, webhook_cursors).values(source=source, last_id=last_id)
        await self.conn.execute(
            stmt.on_conflict_do_update(index_elements=["source"], set_={"last_id": last_id})
        )

    async def last_id(self, source: str) -> int:
        table = _SOURCES[source]
        return int(await self.conn.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0)

    async def happenings(
        self, source: str, *, after_id: int, limit: int
    ) -> list[tuple[int, datetime, Happening | None]]:
        if source == "deal_events":
            return await self._deal_events(after_id, limit)
        if source == "contacts":
            stmt = select(contacts).where(contacts.c.id > after_id).order_by(contacts.c.id).limit(limit)
            return [
                (
                    r.id,
                    r.created_at,
                    Happening("contact.created", f"contact:{r.id}", r.id, r.created_at, contact_data(r)),
                )
                for r in await self.conn.execute(stmt)
            ]
        if source == "tasks":
            stmt = _tasks().where(tasks.c.id > after_id).order_by(tasks.c.id).limit(limit)
            return [
                (
                    r.id,
                    r.created_at,
                    Happening("task.created", f"deal:{r.deal_id}", r.id, r.created_at, task_data(r)),
                )
                for r in await self.conn.execute(stmt)
            ]
        stmt = select(calls).where(calls.c.id > after_id).order_by(calls.c.id).limit(limit)
        return [
            (
                r.id,
                r.created_at,
                Happening(
                    "call.ingested",
                    f"deal:{r.deal_id}" if r.deal_id is not None else f"call:{r.id}",
                    r.id,
                    r.created_at,
                    call_data(r),
                ),
            )
            for r in await self.conn.execute(stmt)
        ]

    async def _deal_events(self, after_id: int, limit: int) -> list[tuple[int, datetime, Happening | None]]:
        stmt = (
            select(
                deal_events.c.id,
                deal_events.c.deal_id,
                deal_events.c.kind,
                deal_events.c.at,
                deal_events.c.data,
            )
            .where(deal_events.c.id > after_id)
            .order_by(deal_events.c.id)
            .limit(limit)
        )
        found: list[tuple[int, datetime, Happening | None]] = []
        for row in (await self.conn.execute(stmt)).all():
            name = DEAL_EVENT_NAMES.get(row.kind)
            if name is None:
                found.append((row.id, row.at, None))
            elif name == "task.done":
                task_id = (row.data or {}).get("task_id")
                task = (await self.conn.execute(_tasks().where(tasks.c.id == task_id))).first()
                data = task_data(task) if task is not None else {"id": task_id, "deal_id": row.deal_id}
                found.append((row.id, row.at, Happening(name, f"deal:{row.deal_id}", row.id, row.at, data)))
            else:  # the deal itself, rendered as the API shows it once dispatched
                found.append(
                    (row.id, row.at, Happening(name, f"deal:{row.deal_id}", row.deal_id, row.at, None))
                )
        return found

    async def enqueue(self, endpoint_id: int, happening: Happening, *, at: datetime) -> int:
        done = await self.conn.execute(
            webhook_deliveries.insert()
            .values(
                endpoint_id=endpoint_id,
                event=happening.event,
                order_key=happening.order_key,
                subject_id=happening.subject_id,
                occurred_at=happening.occurred_at,
                data=happening.data if happening.data is not None else null(),  # SQL NULL, not JSON's
                status=DeliveryStatus.PENDING.value,
                next_try_at=at,
                created_at=at,
            )
            .returning(_d.id)
        )
        return int(done.scalar_one())

    async def unrendered(self, *, limit: int) -> list[tuple[int, int]]:
        stmt = (
            select(_d.id, _d.subject_id)
            .where(_d.status == DeliveryStatus.PENDING.value, _d.data.is_(None))
            .order_by(_d.id)
            .limit(limit)
        )
        return [(row.id, row.subject_id) for row in await self.conn.execute(stmt)]

    async def fill(self, delivery_id: int, data: object) -> None:
        await self.conn.execute(webhook_deliveries.update().where(_d.id == delivery_id).values(data=data))

    async def due(self, endpoint_id: int, *, at: datetime, limit: int) -> list[Delivery]:
        earlier = webhook_deliveries.alias("earlier")
        blocked = exists().where(
            and_(
                earlier.c.endpoint_id == _d.endpoint_id,
                earlier.c.order_key == _d.order_key,
                earlier.c.status == DeliveryStatus.PENDING.value,
                earlier.c.id < _d.id,
            )
        )
        stmt = (
            _DELIVERY.where(
                _d.endpoint_id == endpoint_id,
                _d.status == DeliveryStatus.PENDING.value,
                _d.data.is_not(None),
                _d.next_try_at <= at,
                ~blocked,
            )
            .order_by(_d.id)
            .limit(limit)
        )
        return [_delivery(row) for row in await self.conn.execute(stmt)]

    async def sent(self, delivery_id: int, *, at: datetime) -> None:
        await self.conn.execute(
            webhook_deliveries.update()
            .where(_d.id == delivery_id)
            .values(status=DeliveryStatus.SENT.value, settled_at=at, attempts=_d.attempts + 1)
        )

    async def retry(self, delivery_id: int, *, next_try_at: datetime, error: str) -> None:
        await self.conn.execute(
            webhook_deliveries.update()
            .where(_d.id == delivery_id)
            .values(next_try_at=next_try_at, last_error=error[:300], attempts=_d.attempts + 1)
        )

    async def fail(self, delivery_id: int, *, at: datetime, error: str) -> None:
        await self.conn.execute(
            webhook_deliveries.update()
            .where(_d.id == delivery_id)
            .values(
                status=DeliveryStatus.FAILED.value,
                settled_at=at,
                last_error=error[:300],
                attempts=_d.attempts + 1,
            )
        )

    async def log(self, *, failed_only: bool, limit: int) -> list[Delivery]:
        stmt = _DELIVERY.order_by(_d.id.desc()).limit(limit)
        if failed_only:
            stmt = stmt.where(_d.status == DeliveryStatus.FAILED.value)
        return [_delivery(row) for row in await self.conn.execute(stmt)]

    async def prune(self, *, sent_before: datetime) -> int:
        done = await self.conn.execute(
            webhook_deliveries.delete().where(
                _d.status == DeliveryStatus.SENT.value, _d.settled_at < sent_before
            )
        )
        return int(done.rowcount or 0)
