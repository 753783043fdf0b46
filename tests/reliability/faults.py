"""Faults a test switches on and off: a database that vanishes (a cut TCP link, a held lock)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from pathlib import Path
from types import TracebackType

import pytest
from sqlalchemy.engine import make_url

# The quick variant runs on SQLite only (the PostgreSQL one is in ``make reliability``): it keeps the
# part of ``make test`` this suite adds under two minutes.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TcpProxy:
    """A TCP hop between Kanbot and PostgreSQL: ``cut`` breaks every link and refuses new ones, as a
    network outage does; ``restore`` listens again on the same port. The real server never stops."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()
        self._trap: tuple[bytes, str, int | None] | None = None
        self.sprung = asyncio.Event()

    @classmethod
    def to(cls, database_url: str) -> TcpProxy:
        url = make_url(database_url)
        return cls(url.host or "127.0.0.1", url.port or 5432)

    def url_through(self, database_url: str) -> str:
        """``database_url`` with its host and port replaced by this proxy's."""
        return (
            make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)
        )

    @property
    def up(self) -> bool:
        return self._server is not None

    async def restore(self) -> TcpProxy:
        """Listen (again); harmless while listening."""
        if self._server is None:
            self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port)
        return self

    start = restore

    async def cut(self) -> None:
        """Refuse new connections and break the open ones."""
        self.cuts += 1
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    def break_at(self, marker: bytes, how: str, *, port: int | None = None) -> None:
        """Break the next link that sends ``marker`` to the server (``b"COMMIT"``), at that moment:
        ``lose`` drops it and breaks the link (the server rolls back); ``answer_lost`` lets it through
        and breaks the link when the server answers (it committed, the client never hears); ``stall``
        breaks the client's side only and holds the server's open without it (an open transaction).
        ``port``: only the link from this client port (one connection of a pool)."""
        assert how in ("lose", "answer_lost", "stall"), how
        self._trap, self.sprung = (marker, how, port), asyncio.Event()

    async def close(self) -> None:
        await self.cut()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _link(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        if self._server is None:  # cut while connecting
            client_writer.transport.abort()
            server_writer.transport.abort()
            return
        self._links |= {client_writer, server_writer}
        task = asyncio.current_task()
        if task is not None:
            self._pipes.add(task)
        answered = asyncio.Event()  # the server's answer to a trapped packet is not passed on
        client_port = client_writer.get_extra_info("peername")[1]

        async def upstream() -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await client_reader.read(65536):
                    trap = self._trap
                    if trap is not None and trap[0] in data and trap[2] in (None, client_port):
                        self._trap = None
                        self.sprung.set()
                        if trap[1] == "answer_lost":
                            server_writer.write(data)
                            await server_writer.drain()
                            answered.set()
                        else:
                            client_writer.transport.abort()
                            if trap[1] == "lose":
                                server_writer.transport.abort()
                        return
                    server_writer.write(data)
                    await server_writer.drain()
            server_writer.transport.abort()

        async def downstream() -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await server_reader.read(65536):
                    if answered.is_set():
                        break
                    client_writer.write(data)
                    await client_writer.drain()
            client_writer.transport.abort()
            server_writer.transport.abort()

        try:
            await asyncio.gather(upstream(), downstream())
        finally:
            self._links -= {client_writer, server_writer}
            if task is not None:
                self._pipes.discard(task)


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
