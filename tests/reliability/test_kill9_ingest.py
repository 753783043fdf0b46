"""``kill -9`` of ``kanbot run`` while PBXs post calls to it, again and again: after each restart every
call the CRM accepted (a 2xx) is there exactly once, no call is there that nobody posted, each call is
whole (its deal, its line in the deal's history, its notification), and SQLite's file is intact."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from crm_core.services import Crm
from telegram_emulator import Emulator
from telephony_bridge.signing import HEADER, sign
from telephony_bridge.spool import encode
from tests.e2e.harness import CALLS_SECRET
from tests.ops.support import KanbotProcess, base_env
from tests.reliability.nothing_lost import TALLY, calls_once
from tests.support.databases import SQLITE_ONLY

QUICK_KILLS = 2
LONG_KILLS = int(os.environ.get("KANBOT_KILLS", "20"))
POSTERS = 6


@dataclass
class Load:
    """What the PBXs posted, and which posts the CRM accepted."""

    posted: dict[str, CallEvent] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)
    refused: int = 0
    serial: int = 0

    def next_call(self, answered: bool) -> CallEvent:
        self.serial += 1
        started = datetime(2026, 3, 2, 9, 0, tzinfo=UTC) + timedelta(seconds=self.serial)
        call_id = f"kill-{self.serial}"
        self.posted[call_id] = CallEvent(
            call_id=call_id,
            provider="generic",
            direction=CallDirection.INBOUND,
            status=CallStatus.ANSWERED if answered else CallStatus.MISSED,
            caller=f"+7916{self.serial % 10_000_000:07d}",
            dialed="+74997001122",
            started_at=started,
            rang=("101",),
            answered_by="101" if answered else None,
            answered_at=started + timedelta(seconds=5) if answered else None,
            ended_at=started + timedelta(seconds=65),
            duration_s=60 if answered else 0,
        )
        return self.posted[call_id]


async def post(http: aiohttp.ClientSession, url: str, event: CallEvent, load: Load) -> None:
    body = encode(event)
    headers = {"Content-Type": "application/json", HEADER: sign(body, CALLS_SECRET)}
    try:
        async with http.post(url + "/api/v1/calls", data=body, headers=headers) as response:
            if 200 <= response.status < 300:
                load.accepted.add(event.call_id)
            else:
                load.refused += 1
    except (TimeoutError, aiohttp.ClientError, OSError):
        load.refused += 1  # no answer: the PBX does not know, and will post it again


async def poster(
    http: aiohttp.ClientSession, url: str, load: Load, rng: random.Random, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        await post(http, url, load.next_call(answered=rng.random() < 0.5), load)


@pytest.fixture
async def kanbot_process(
    crm: Crm, database_url: str, emulator: Emulator, tmp_path: Path
) -> AsyncIterator[KanbotProcess]:
    # Every call comes from a new number, hundreds a minute: past the call-flood limit they would be
    # recorded without deals, and the deal-making ingest is what a kill must not leave half-done.
    env = base_env(
        database_url, emulator.url, KANBOT_CALLS_SECRET=CALLS_SECRET, KANBOT_CALL_FLOOD_NEW_NUMBERS="0"
    )
    process = KanbotProcess("kanbot-run", ["run"], env, tmp_path)
    yield process
    await process.stop()


async def kill_during_ingest(crm: Crm, database_url: str, process: KanbotProcess, kills: int) -> None:
    rng = random.Random(int(os.environ.get("KANBOT_KILL_SEED", "9")))
    load = Load()
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for _ in range(kills):
            process.start()
            await process.wait_ready()
            stop = asyncio.Event()
            posters = [
                asyncio.create_task(poster(http, process.url, load, rng, stop)) for _ in range(POSTERS)
            ]
            await asyncio.sleep(rng.uniform(0.3, 1.5))
            process.signal(signal.SIGKILL)
            TALLY.fault("kill -9 of kanbot run")
            assert await process.exit_code(within_s=10) == -signal.SIGKILL
            stop.set()
            await asyncio.gather(*posters)
            await check_whole(crm, database_url, load)
        # What no one heard the answer to, a PBX posts again: the restarted CRM takes each once.
        process.start()
        await process.wait_ready()
        for call_id, event in load.posted.items():
            if call_id not in load.accepted:
                await post(http, process.url, event, load)
        await process.stop()
    await check_whole(crm, database_url, load, everything=True)
    TALLY.count("calls posted during kill -9 rounds", len(load.posted))


async def check_whole(crm: Crm, database_url: str, load: Load, *, everything: bool = False) -> None:
    """Accepted calls once each and whole; no half-written call; SQLite's file intact."""
    await calls_once(crm.db, [("generic", c, True) for c in load.accepted], only_accepted=False)
    async with crm.db.engine.connect() as conn:
        stored = {r[0] for r in await conn.execute(text("SELECT external_id FROM calls"))}
        posted = set(load.posted)
        assert stored <= posted, f"calls nobody posted: {sorted(stored - posted)[:5]}"
        if everything:
            assert stored == posted == load.accepted, f"posted, never stored: {sorted(posted - stored)[:5]}"
        broken = (
            await conn.execute(
                text(
                    "SELECT c.external_id FROM calls c LEFT JOIN deals d ON d.id = c.deal_id"
                    " WHERE c.deal_id IS NULL OR d.id IS NULL OR NOT EXISTS (SELECT 1 FROM deal_events e"
                    " WHERE e.deal_id = c.deal_id AND e.kind = 'call')"
                )
            )
        ).all()
        assert not broken, f"calls without their deal or its history line: {broken[:5]}"
    if database_url.startswith("sqlite"):
        path = make_url(database_url).database
        assert path is not None
        with contextlib.closing(sqlite3.connect(path)) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    TALLY.cases += 1


@SQLITE_ONLY
async def test_kill_9_during_call_ingest_loses_doubles_and_breaks_nothing(
    crm: Crm, database_url: str, kanbot_process: KanbotProcess
) -> None:
    await kill_during_ingest(crm, database_url, kanbot_process, QUICK_KILLS)


@pytest.mark.reliability
async def test_twenty_kill_9s_during_call_ingest_lose_double_and_break_nothing(
    crm: Crm, database_url: str, kanbot_process: KanbotProcess
) -> None:
    await kill_during_ingest(crm, database_url, kanbot_process, LONG_KILLS)
