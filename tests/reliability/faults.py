"""Faults a test switches on and off: a database that vanishes (a held lock; the cut TCP link is
``tests.support.network.TcpProxy``)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from types import TracebackType

from sqlalchemy.engine import make_url


class SqliteWriteLock:
    """Another process holding ``BEGIN EXCLUSIVE`` on a SQLite file: nobody else may write meanwhile.

    ``take`` returns once the lock is held (it waits, like any writer, for Kanbot's transaction in
    flight); ``release`` rolls back and lets the process end.
    """

    SCRIPT = (
        "import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)\n"
        "db.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "sys.stdin.readline()\n"
        "db.execute('ROLLBACK')\n"
    )

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._proc: asyncio.subprocess.Process | None = None

    @classmethod
    def of(cls, database_url: str) -> SqliteWriteLock:
        database = make_url(database_url).database
        assert database, database_url
        return cls(database)

    async def take(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            self.SCRIPT,
            str(self.path),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        line = await asyncio.wait_for(self._proc.stdout.readline(), timeout=60)
        assert line.strip() == b"locked", line

    async def release(self) -> None:
        if self._proc is None:
            return
        assert self._proc.stdin is not None
        with contextlib.suppress(ConnectionError):
            self._proc.stdin.write(b"go\n")
            await self._proc.stdin.drain()
        await asyncio.wait_for(self._proc.wait(), timeout=30)
        self._proc = None

    async def __aenter__(self) -> SqliteWriteLock:
        await self.take()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.release()
