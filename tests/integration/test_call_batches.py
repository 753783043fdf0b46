"""Calls written together (``call_writer``: group commit) store exactly what they store one by one."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, event, select, text

from crm_core.adapters.database import Database
from crm_core.adapters.tables import metadata
from crm_core.domain.calls import CallDirection, CallEvent, CallFloodRule, CallStatus
from crm_core.domain.errors import InvalidInput
from crm_core.domain.users import Role
from crm_core.ports import FixedClock
from crm_core.services import Crm
from crm_core.services.call_writer import Ingested, call_writer
from crm_core.services.calls import CallService
from crm_core.services.unit_of_work import UnitOfWork
from tests.conftest import T0

CHUNK = 20  # calls posted at once: queued before the writer starts, written in one transaction


def seeded_stream(count: int, *, seed: int = 7) -> list[CallEvent]:
    """``count`` inbound calls, answered and missed, from new numbers and again from known ones, with
    re-posts of earlier calls among them."""
    r = random.Random(seed)
    known: list[str] = []
    events: list[CallEvent] = []
    while len(events) < count:
        at = T0 + timedelta(seconds=30 * len(events))
        if known and r.random() < 0.3:
            phone = r.choice(known)
        else:
            phone = f"+7495{r.randrange(10**7):07d}"
            known.append(phone)
        answered = r.random() < 0.55
        extension = r.choice(["101", "102", "103"])
        events.append(
            CallEvent(
                call_id=f"c{len(events)}",
                provider="asterisk",
                direction=CallDirection.INBOUND,
                status=CallStatus.ANSWERED if answered else CallStatus.MISSED,
                caller=phone,
                dialed="+74950000000",
                started_at=at,
                rang=(extension,),
                answered_by=extension if answered else None,
                answered_at=at + timedelta(seconds=5) if answered else None,
                ended_at=at + timedelta(seconds=65),
                duration_s=60 if answered else None,
            )
        )
        if r.random() < 0.05:
            events.append(events[r.randrange(len(events))])
    return events[:count]


async def fresh_crm(db: Database, clock: FixedClock, crm: Crm) -> Crm:
    """An empty database (ids from 1 again) with the default funnel and three sellers."""
    async with db.engine.begin() as conn:
        if db.is_sqlite:
            for table in reversed(metadata.sorted_tables):  # rowid tables: ids from 1 again
                await conn.execute(delete(table))
        else:
            tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    clock.current = T0
    flood_off = replace(crm.config, call_flood=CallFloodRule(limit=0))
    fresh = Crm(db, clock=clock, config=flood_off)
    await fresh.pipelines.seed_defaults()
    for n, extension in enumerate(["101", "102", "103"]):
        await fresh.users.add(
            telegram_id=200 + n, name=f"Seller {n}", role=Role.SELLER, extensions=(extension,)
        )
    return fresh


async def stored_state(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in key order, but the funnel's version (a number the schema draws) and a
    dialog's data (its draft number is random)."""
    state = {}
    async with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name == "funnel_version":
                continue
            rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
            state[table.name] = [
                tuple(v for k, v in row._mapping.items() if (table.name, k) != ("dialogs", "data"))
                for row in rows
            ]
    return state


async def test_a_seeded_stream_of_400_calls_stores_the_same_written_together_as_one_by_one(
    db: Database, crm: Crm, clock: FixedClock
) -> None:
    stream = seeded_stream(400)
    alone = await fresh_crm(db, clock, crm)
    one_by_one = []
    for start in range(0, len(stream), CHUNK):
        one_by_one += [await alone.calls.ingest_alone(e) for e in stream[start : start + CHUNK]]
        clock.advance(timedelta(minutes=3))
    expected = await stored_state(db)

    together = await fresh_crm(db, clock, crm)
    writer = call_writer(db)
    outcomes = []
    for start in range(0, len(stream), CHUNK):
        chunk = stream[start : start + CHUNK]
        outcomes += await asyncio.gather(*(writer.write(together.calls, e) for e in chunk))
        clock.advance(timedelta(minutes=3))

    assert outcomes == one_by_one
    assert sum(o.created for o in outcomes) > 100 and sum(o.duplicate for o in outcomes) > 5
    assert await stored_state(db) == expected


class FailingOn(CallService):
    """The calls service, whose writing of one call id fails (as a call the database refuses would)."""

    failing = "c3"

    async def ingest_in(self, uow: UnitOfWork, event: CallEvent) -> Ingested:
        if event.call_id == self.failing:
            raise InvalidInput("call", event.call_id, detail="refused")
        return await super().ingest_in(uow, event)


async def test_a_call_failing_among_others_written_together_fails_alone(
    db: Database, crm: Crm, clock: FixedClock
) -> None:
    fresh = await fresh_crm(db, clock, crm)
    calls = FailingOn(fresh.calls.db, fresh.calls.clock, fresh.calls.config)
    stream = seeded_stream(8)
    writer = call_writer(db)
    results = await asyncio.gather(*(writer.write(calls, e) for e in stream), return_exceptions=True)

    failed = [e.call_id for e, r in zip(stream, results, strict=True) if isinstance(r, BaseException)]
    assert failed == ["c3"]
    async with db.engine.connect() as conn:
        stored = set(await conn.scalars(text("SELECT external_id FROM calls")))
    assert stored == {e.call_id for e in stream} - {"c3"}


async def test_calls_posted_at_once_on_sqlite_share_transactions(
    db: Database, crm: Crm, clock: FixedClock
) -> None:
    fresh = await fresh_crm(db, clock, crm)
    commits = 0

    def counted(*_: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(db.engine.sync_engine, "commit", counted)
    # A caller each (on PostgreSQL two calls of one caller side by side may find the deal changed meanwhile).
    stream = list({e.caller: e for e in seeded_stream(CHUNK)}.values())
    outcomes = await asyncio.gather(*(fresh.calls.ingest_call(e) for e in stream))
    written = len({o.call_id for o in outcomes if not o.duplicate})
    if db.is_sqlite:  # queued before the writer took the first: all in one transaction
        assert commits == 1
    else:  # PostgreSQL writes calls side by side, each in its own transaction
        assert commits == written
