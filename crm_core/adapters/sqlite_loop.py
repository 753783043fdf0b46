"""SQLite on the event loop: a unit of work's statements run through ``sqlite3`` where they are awaited.

A point query takes SQLite microseconds; handing it to aiosqlite's worker thread and waking the loop
again cost a press a third of its time. Here the DB-API connection SQLAlchemy's aiosqlite dialect
wraps is a plain ``sqlite3`` connection, and each statement runs at once, in the caller's greenlet on
the loop's thread. Two things must never hold the loop, and do not:

- A long read (reports, exports, the digest): its unit of work says so (``Database.uow(long=True)``),
  and then each of its statements runs in a thread (``offload``) while the loop serves everyone else.
- A database another process is writing: the connections have no busy timeout, so SQLite answers
  SQLITE_BUSY at once instead of sleeping in C, and the statement is tried again after an asyncio
  sleep with back-off, up to ``BUSY_PATIENCE_S`` — the patience SQLite's busy timeout gave before.
  Retrying the statement alone is safe: a statement that met SQLITE_BUSY did nothing (a write
  transaction takes its lock at ``BEGIN IMMEDIATE``, so a write never meets it half way).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_, in_greenlet
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay
from tenacity.wait import wait_exponential_jitter

T = TypeVar("T")

BUSY_PATIENCE_S = 10.0
# SQLite's own busy handler sleeps 1, 2, 5, 10 ... 100 ms; this one backs off alike, without the loop.
_BUSY_WAIT = wait_exponential_jitter(multiplier=0.001, max=0.05, jitter=0.002)
_SQLITE_BUSY, _SQLITE_BUSY_SNAPSHOT = 5, 517
# Long reads' statements; a few at a time is plenty (each holds a pooled connection meanwhile).
_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kanbot-sqlite")


def busy(error: BaseException) -> bool:
    """Whether ``error`` is SQLite's "database is locked" that waiting cures.

    Not SQLITE_BUSY_SNAPSHOT: a read transaction that wants to write after another process wrote
    must start again, which no wait mends (Kanbot's writers begin with ``BEGIN IMMEDIATE``).
    """
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return str(error).startswith("database is locked")
    return bool(code & 0xFF == _SQLITE_BUSY and code != _SQLITE_BUSY_SNAPSHOT)


def _statement(
    conn: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[Any, int, Any, list[Any]]:
    """The whole statement: executed, its rows read and its cursor closed."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class LoopCursor(AsyncAdapt_aiosqlite_cursor):
    """What SQLAlchemy reads after a statement (rows, ``description``, ``rowcount``, ``lastrowid``),
    filled in by one call of ``_statement``."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")
    _adapt_connection: LoopConnection

    def __init__(self, adapt_connection: Any) -> None:  # no driver cursor kept: ``_statement`` makes one
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: Any = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._keep(self._adapt_connection.run(_statement, operation, parameters, False))

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._keep(self._adapt_connection.run(_statement, operation, seq_of_parameters, True))

    def _keep(self, found: tuple[Any, int, Any, list[Any]]) -> None:
        self._description, self._rowcount, self._lastrowid, rows = found
        self._rows = collections.deque(rows)


class LoopConnection(AsyncAdapt_aiosqlite_connection):
    """A ``sqlite3`` connection behind SQLAlchemy's aiosqlite adapter: calls run on the loop's thread,
    or each in a worker thread while ``offload`` is set (a long read's unit of work)."""

    __slots__ = ("offload",)
    _cursor_cls = LoopCursor
    _ss_cursor_cls = LoopCursor  # type: ignore[assignment]  # a streamed result reads rows already fetched
    _connection: sqlite3.Connection  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: sqlite3.Connection) -> None:
        super().__init__(dbapi, connection)  # type: ignore[arg-type]  # synchronous: called here, not awaited
        self.offload = False

    def run(self, call: Callable[..., T], *args: Any) -> T:
        """``call(connection, *args)``, from SQLAlchemy's synchronous code in its greenlet.

        Through ``await_`` as any async driver (SQLAlchemy's async engine insists on one await per
        statement), but the awaitable runs the call at once on the loop's thread and completes
        without suspending; only a busy database, or a long read, is waited for through the loop,
        which serves other tasks meanwhile. Outside a greenlet (a connection reset as it is
        garbage-collected) the call runs directly."""
        try:
            if not in_greenlet():
                return call(self._connection, *args)
            return await_(self._call(call, *args))
        except Exception as error:
            self._handle_exception(error)

    async def _call(self, call: Callable[..., T], *args: Any) -> T:
        if not self.offload:
            try:
                return call(self._connection, *args)
            except sqlite3.OperationalError as error:
                if not busy(error):
                    raise
        return await self._patiently(call, args)

    async def _patiently(self, call: Callable[..., T], args: tuple[Any, ...]) -> T:
        retrying = AsyncRetrying(
            retry=retry_if_exception(busy),
            wait=_BUSY_WAIT,
            stop=stop_after_delay(BUSY_PATIENCE_S),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if self.offload:
                    return await self._in_thread(call, args)
                return call(self._connection, *args)
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    async def _in_thread(self, call: Callable[..., T], args: tuple[Any, ...]) -> T:
        done = asyncio.get_running_loop().run_in_executor(_THREADS, call, self._connection, *args)
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            # Not given back to the pool while the thread still uses it: the statement is stopped.
            self._connection.interrupt()
            with contextlib.suppress(Exception):
                await done
            raise

    @property
    def isolation_level(self) -> str | None:
        return self._connection.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._connection.isolation_level = value  # type: ignore[assignment]

    def create_function(self, *args: Any, **kw: Any) -> None:
        self._connection.create_function(*args, **kw)

    def commit(self) -> None:
        self.run(sqlite3.Connection.commit)

    def rollback(self) -> None:
        self.run(sqlite3.Connection.rollback)

    def close(self) -> None:
        self._connection.close()

    async def _terminate_graceful_close(self) -> None:
        self._connection.close()

    def _terminate_force_close(self) -> None:
        self._connection.close()


class LoopDbapi(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite module adapter, connecting with ``sqlite3`` itself (no worker thread):
    pass as ``create_async_engine(..., module=LoopDbapi())``."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> LoopConnection:
        kw.pop("async_creator_fn", None)
        # Usable from a long read's worker thread (one user at a time: the pool hands it out), and no
        # busy handler sleeping in C: a locked database is waited for on the loop (``busy``).
        kw |= {"check_same_thread": False, "timeout": 0}
        return LoopConnection(self, sqlite3.connect(*arg, **kw))
