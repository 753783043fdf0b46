"""The database: one engine per process, and units of work that own a transaction each."""

from __future__ import annotations

import asyncio
import contextlib
from contextvars import ContextVar
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction, create_async_engine

from crm_core.adapters.repositories import (
    CallRepository,
    ContactRepository,
    DealRepository,
    EventRepository,
    LostReasonRepository,
    OutboxRepository,
    PipelineRepository,
    TaskRepository,
    UserRepository,
)
from crm_core.adapters.repositories.conversations import (
    DialogRepository,
    InviteRepository,
    ProcessedRepository,
)
from crm_core.adapters.repositories.followups import FollowUpRepository
from crm_core.domain.errors import Unavailable

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Commits of changes (not bookkeeping), counted for whoever sets a counter here: the chat core, for each
# attempt at an update. Work that saved a change when the database went away is not done again blindly.
saved_changes: ContextVar[list[int] | None] = ContextVar("kanbot_saved_changes", default=None)


class Database:
    """Owns the engine. SQLite gets WAL, foreign keys, a busy timeout and immediate write transactions."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 5) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        options: dict[str, Any] = {"echo": echo, "pool_pre_ping": not self.is_sqlite}
        if not self.is_sqlite:
            options |= {"pool_size": pool_size, "max_overflow": pool_size * 2}
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        self._writer: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        if self.is_sqlite:
            _prepare_sqlite(self.engine, self.url.database)

    def sqlite_writer(self) -> asyncio.Lock:
        """SQLite has one writer at a time: this process's writers queue here, first come first served.

        Left to SQLite's busy handler, waiting writers each hold a pooled connection and poll for the
        file lock; under load the polling is unfair, and a writer could wait past the busy timeout.
        """
        loop = asyncio.get_running_loop()
        if self._writer is None or self._writer[0] is not loop:
            self._writer = (loop, asyncio.Lock())
        return self._writer[1]

    def uow(self, *, write: bool = True, bookkeeping: bool = False) -> UnitOfWork:
        """A unit of work; ``write=False`` for read-only work (SQLite then takes no write lock);
        ``bookkeeping`` for state that is safe to write again (dialog steps, the ledger of handled updates).
        """
        return UnitOfWork(self, write=write, bookkeeping=bookkeeping)

    async def dispose(self) -> None:
        await self.engine.dispose()


def _prepare_sqlite(engine: AsyncEngine, database: str | None) -> None:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A write transaction takes the write lock up front, so two writers queue on the busy
        # timeout instead of failing when a read lock cannot be upgraded.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("kanbot_write", True) else "BEGIN")


class UnitOfWork:
    """A transaction with the repositories bound to it; rolls back unless ``commit()`` was called."""

    users: UserRepository
    pipelines: PipelineRepository
    lost_reasons: LostReasonRepository
    contacts: ContactRepository
    deals: DealRepository
    events: EventRepository
    tasks: TaskRepository
    calls: CallRepository
    outbox: OutboxRepository
    invites: InviteRepository
    dialogs: DialogRepository
    processed: ProcessedRepository
    followups: FollowUpRepository

    def __init__(self, database: Database, *, write: bool, bookkeeping: bool = False) -> None:
        self.database, self.write, self.bookkeeping = database, write, bookkeeping
        self._conn: AsyncConnection | None = None
        self._tx: AsyncTransaction | None = None
        self._writer: asyncio.Lock | None = None

    @property
    def connection(self) -> AsyncConnection:
        assert self._conn is not None, "use the unit of work as an async context manager"
        return self._conn

    @property
    def dialect(self) -> str:
        return self.connection.dialect.name

    async def __aenter__(self) -> UnitOfWork:
        if self.database.is_sqlite and self.write:
            writer = self.database.sqlite_writer()
            try:
                await asyncio.wait_for(writer.acquire(), SQLITE_BUSY_TIMEOUT_MS / 1000)
            except TimeoutError:
                raise Unavailable("database is locked") from None
            self._writer = writer
        try:
            conn = await self.database.engine.connect()
        except (OperationalError, InterfaceError, OSError) as error:
            self._release()
            raise Unavailable(type(error).__name__) from error
        self._conn = conn
        try:
            if self.database.is_sqlite:
                (await conn.get_raw_connection()).info["kanbot_write"] = self.write
            self._tx = await conn.begin()
        except BaseException as error:
            await self.__aexit__(type(error), error, error.__traceback__)  # closes the connection
            raise
        self.users = UserRepository(conn)
        self.pipelines = PipelineRepository(conn)
        self.lost_reasons = LostReasonRepository(conn)
        self.contacts = ContactRepository(conn)
        self.deals = DealRepository(conn)
        self.events = EventRepository(conn)
        self.tasks = TaskRepository(conn)
        self.calls = CallRepository(conn)
        self.outbox = OutboxRepository(conn)
        self.invites = InviteRepository(conn)
        self.dialogs = DialogRepository(conn)
        self.processed = ProcessedRepository(conn)
        self.followups = FollowUpRepository(conn)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                await self._tx.rollback()
        except (OperationalError, InterfaceError, OSError):
            pass  # the connection is gone, and the transaction with it
        finally:
            if self._conn is not None:
                with contextlib.suppress(OperationalError, InterfaceError, OSError):
                    await self._conn.close()
            self._conn = self._tx = None
            self._release()
        if isinstance(exc, OperationalError | InterfaceError | OSError):
            raise Unavailable(type(exc).__name__) from exc

    async def commit(self) -> None:
        assert self._tx is not None
        await self._tx.commit()
        saved = saved_changes.get()
        if saved is not None and not self.bookkeeping:
            saved[0] += 1

    def _release(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
