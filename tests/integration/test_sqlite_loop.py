"""SQLite units of work run their statements on the event loop, long reads in a thread, and a database
another connection or process is writing is waited for without ever holding the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from crm_core.adapters import sqlite_loop
from crm_core.adapters.database import Database
from crm_core.domain.errors import Unavailable
from tests.support.databases import SQLITE_ONLY

pytestmark = SQLITE_ONLY
REPO = Path(__file__).resolve().parents[2]
ENOUGH_BEATS = 20


class Heartbeat:
    """A coroutine that beats on every turn of the loop it gets: its progress shows the loop is free."""

    def __init__(self) -> None:
        self.beats = 0
        self._task: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(0.001)
            self.beats += 1

    async def while_pending(self, work: Awaitable[Any], beats: int = ENOUGH_BEATS) -> None:
        """Wait for ``beats`` more beats, checking ``work`` is still pending all the while."""
        task = asyncio.ensure_future(work)
        target = self.beats + beats
        while self.beats < target:
            assert not task.done(), "the work ended before the loop had beaten; it did not wait"
            await asyncio.sleep(0.001)

    async def __aenter__(self) -> Heartbeat:
        self._task = asyncio.create_task(self._beat())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


@pytest.fixture
async def probe(db: Database) -> Path:
    """The database file, with a table ``probe (id, who)`` to write to."""
    async with db.uow() as uow:
        await uow.connection.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, who TEXT NOT NULL)"))
        await uow.commit()
    assert db.url.database
    return Path(db.url.database)


async def write(db: Database, who: str) -> None:
    async with db.uow() as uow:
        await uow.connection.execute(text("INSERT INTO probe (who) VALUES (:w)"), {"w": who})
        await uow.commit()


async def written(db: Database) -> list[str]:
    async with db.uow(write=False) as uow:
        return list((await uow.connection.scalars(text("SELECT who FROM probe ORDER BY id"))).all())


def held_write_lock(path: Path) -> sqlite3.Connection:
    """Another writer (a second process, the CLI) in the middle of its write transaction."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO probe (who) VALUES ('other')")
    return other


async def test_short_units_of_work_run_on_the_loops_thread_and_long_ones_in_another(db: Database) -> None:
    @event.listens_for(db.engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("thread_ident", 0, threading.get_ident)

    loop_thread = threading.get_ident()
    async with db.uow() as uow:
        assert await uow.connection.scalar(text("SELECT thread_ident()")) == loop_thread
    async with db.uow(write=False, long=True) as uow:
        assert await uow.connection.scalar(text("SELECT thread_ident()")) != loop_thread
    async with db.uow(write=False) as uow:  # the same pooled connection, back on the loop
        assert await uow.connection.scalar(text("SELECT thread_ident()")) == loop_thread


async def test_the_connections_have_no_busy_timeout_that_would_sleep_on_the_loop(db: Database) -> None:
    async with db.uow(write=False) as uow:
        assert await uow.connection.scalar(text("PRAGMA busy_timeout")) == 0
        assert await uow.connection.scalar(text("PRAGMA journal_mode")) == "wal"


async def test_a_writer_waits_for_another_connections_write_lock_while_the_loop_serves_others(
    db: Database, probe: Path
) -> None:
    other = held_write_lock(probe)
    try:
        writer = asyncio.ensure_future(write(db, "kanbot"))
        async with Heartbeat() as heart:
            await heart.while_pending(writer)  # the loop beats on while the writer waits for the lock
            assert await written(db) == []  # and a reader is served meanwhile (WAL: not blocked)
            other.execute("COMMIT")
            await asyncio.wait_for(writer, 30)
    finally:
        other.close()
    assert await written(db) == ["other", "kanbot"]


async def test_a_lock_held_past_the_patience_is_unavailable_and_changes_nothing(
    db: Database, probe: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_loop, "BUSY_PATIENCE_S", 0.2)
    other = held_write_lock(probe)
    try:
        async with Heartbeat() as heart:
            writer = asyncio.ensure_future(write(db, "kanbot"))
            await heart.while_pending(writer, beats=5)
            with pytest.raises(Unavailable):
                await asyncio.wait_for(writer, 30)
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert await written(db) == []
    await write(db, "later")  # the database and the pool are fine afterwards
    assert await written(db) == ["later"]


async def test_a_long_read_runs_off_the_loop_and_stops_when_cancelled(db: Database) -> None:
    endless = text(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000000000) "
        "SELECT count(*) FROM n"
    )

    async def report() -> None:
        async with db.uow(write=False, long=True) as uow:
            await uow.connection.scalar(endless)

    reading = asyncio.ensure_future(report())
    async with Heartbeat() as heart:
        await heart.while_pending(reading)  # the loop is free while the read runs in its thread
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(reading, 30)  # the statement was interrupted, not left running
    async with db.uow(write=False) as uow:
        assert await uow.connection.scalar(text("SELECT 1")) == 1


WRITER = """
import asyncio, sys
from sqlalchemy import text
from crm_core.adapters.database import Database

async def main(url: str, count: int) -> None:
    db = Database(url)
    print("writing", flush=True)
    for n in range(count):
        async with db.uow() as uow:
            await uow.connection.execute(text("INSERT INTO probe (who) VALUES ('process')"))
            await uow.commit()
    await db.dispose()

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def test_two_processes_writing_at_once_lose_nothing(db: Database, probe: Path) -> None:
    count = 150
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WRITER,
        str(db.url),
        str(count),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        assert await asyncio.wait_for(process.stdout.readline(), 60) == b"writing\n"
        async with Heartbeat() as heart:
            for _ in range(count):
                await write(db, "loop")
            _, errors = await asyncio.wait_for(process.communicate(), 120)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, errors.decode()
    rows = await written(db)
    assert rows.count("loop") == count and rows.count("process") == count
    assert heart.beats > 0
