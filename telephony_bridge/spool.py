"""A durable queue of calls waiting for the CRM: an SQLite file that survives restarts and outages.

``put`` returns once the call is committed (WAL, ``synchronous=FULL``): from then on a crash loses
nothing. A call leaves the spool only when the CRM accepted it (``delete``) or refused it for good
(``park``: moved to the ``dead_letter`` table with the reason, for a human to look at). The oldest
call is always delivered first. SQLite runs in one worker thread, so the event loop never waits on
the disk and the connection is never used by two threads at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from crm_core.domain.calls import CallEvent

_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL,
    final INTEGER NOT NULL,
    body BLOB NOT NULL,
    spooled_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS dead_letter (
    id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL,
    final INTEGER NOT NULL,
    body BLOB NOT NULL,
    spooled_at REAL NOT NULL,
    parked_at REAL NOT NULL,
    status INTEGER,
    reason TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class SpooledCall:
    """A call waiting in the spool: ``body`` is the exact JSON that is posted (and signed)."""

    spool_id: int
    call_id: str
    body: bytes
    attempts: int


@dataclass(frozen=True, slots=True)
class ParkedCall:
    spool_id: int
    call_id: str
    body: bytes
    status: int | None
    reason: str


def encode(event: CallEvent) -> bytes:
    """The body of ``POST /api/v1/calls`` for ``event``."""
    return json.dumps(event.to_json(), ensure_ascii=False, separators=(",", ":")).encode()


class Spool:
    """Calls waiting for the CRM, oldest first, in ``path``."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kanbot-spool")
        self._db = self._executor.submit(self._connect).result()
        self._added = asyncio.Event()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(_SCHEMA)
        return db

    async def _run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, self._db)

    async def put(self, event: CallEvent) -> int:
        """Spool ``event``; returns once it is on disk."""
        body = encode(event)

        def insert(db: sqlite3.Connection) -> int:
            cursor = db.execute(
                "INSERT INTO spool (call_id, final, body, spooled_at) VALUES (?, ?, ?, ?)",
                (event.call_id, int(event.is_final), body, time.time()),
            )
            return int(cursor.lastrowid or 0)

        spool_id = await self._run(insert)
        self._added.set()
        return spool_id

    async def oldest(self) -> SpooledCall | None:
        def select(db: sqlite3.Connection) -> SpooledCall | None:
            row = db.execute("SELECT id, call_id, body, attempts FROM spool ORDER BY id LIMIT 1").fetchone()
            return SpooledCall(row[0], row[1], bytes(row[2]), row[3]) if row else None

        return await self._run(select)

    async def delete(self, spool_id: int) -> None:
        """The CRM has the call: forget it."""
        await self._run(lambda db: db.execute("DELETE FROM spool WHERE id = ?", (spool_id,)))

    async def note_failure(self, spool_id: int, error: str) -> None:
        sql = "UPDATE spool SET attempts = attempts + 1, last_error = ? WHERE id = ?"
        await self._run(lambda db: db.execute(sql, (error[:500], spool_id)))

    async def park(self, spool_id: int, *, status: int | None, reason: str) -> None:
        """Move a call the CRM refused for good to the dead-letter table."""

        def move(db: sqlite3.Connection) -> None:
            with db:  # one transaction: the call is in exactly one of the two tables
                db.execute("BEGIN IMMEDIATE")
                db.execute(
                    "INSERT INTO dead_letter"
                    " (id, call_id, final, body, spooled_at, parked_at, status, reason)"
                    " SELECT id, call_id, final, body, spooled_at, ?, ?, ? FROM spool WHERE id = ?",
                    (time.time(), status, reason[:2000], spool_id),
                )
                db.execute("DELETE FROM spool WHERE id = ?", (spool_id,))

        await self._run(move)

    async def pending(self) -> int:
        return await self._run(lambda db: int(db.execute("SELECT count(*) FROM spool").fetchone()[0]))

    async def parked(self) -> list[ParkedCall]:
        def select(db: sqlite3.Connection) -> list[ParkedCall]:
            sql = "SELECT id, call_id, body, status, reason FROM dead_letter ORDER BY id"
            rows = db.execute(sql).fetchall()
            return [ParkedCall(row[0], row[1], bytes(row[2]), row[3], row[4]) for row in rows]

        return await self._run(select)

    async def wait_for_new(self, timeout_s: float | None = None) -> None:
        """Wait until something is spooled (or ``timeout_s`` passes)."""
        self._added.clear()
        if await self.pending():
            return
        with contextlib.suppress(TimeoutError):  # asyncio.timeout: 3.11's wait_for can swallow a cancel
            async with asyncio.timeout(timeout_s):
                await self._added.wait()

    async def close(self) -> None:
        await self._run(lambda db: db.close())
        self._executor.shutdown(wait=True)

    async def __aenter__(self) -> Spool:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
