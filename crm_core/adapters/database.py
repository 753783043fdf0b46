"""The database: one engine per process, and units of work that own a transaction each."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction, create_async_engine

from crm_core.adapters.liveness import Liveness
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
from crm_core.adapters.repositories.api_tokens import ApiTokenRepository, DealPageRepository
from crm_core.adapters.repositories.conversations import (
    DialogRepository,
    InviteRepository,
    ProcessedRepository,
)
from crm_core.adapters.repositories.deal_lists import DealLists
from crm_core.adapters.repositories.dialing import CallRequestRepository
from crm_core.adapters.repositories.external_ids import ExternalIdRepository
from crm_core.adapters.repositories.fields import FieldRepository
from crm_core.adapters.repositories.followups import FollowUpRepository
from crm_core.adapters.repositories.funnel import PipelineCache
from crm_core.adapters.repositories.recordings import RecordingRepository
from crm_core.adapters.repositories.reports import ReportRepository
from crm_core.adapters.repositories.targets import SummaryRepository, TargetRepository
from crm_core.adapters.repositories.web_forms import WebFormRepository
from crm_core.adapters.repositories.webhooks import WebhookRepository
from crm_core.adapters.sqlite_loop import BUSY_PATIENCE_S, LoopConnection, LoopDbapi
from crm_core.domain.errors import Duplicate, Unavailable
from crm_core.services.unit_of_work import saved_changes

log = logging.getLogger(__name__)

# How long a SQLite writer waits for the write lock (this process's queue, then another process's writer).
SQLITE_BUSY_TIMEOUT_MS = int(BUSY_PATIENCE_S * 1000)
# How long a commit whose connection broke waits to learn whether it happened (the database away).
COMMIT_RESOLVE_S = 30.0
COMMIT_RESOLVE_DELAYS_S = (0.1, 0.2, 0.5, 1.0, 2.0)
# The server's own errors that mean "not reachable now" (asyncpg's names, read through the wrapping).
_DRIVER_OUTAGES = {
    "PostgresConnectionError",  # ConnectionDoesNotExistError ("closed in the middle of operation"), ...
    "AdminShutdownError",  # pg_terminate_backend, a fast shutdown
    "CrashShutdownError",
    "CannotConnectNowError",  # starting up, shutting down
    "TooManyConnectionsError",
}


def lost_database(error: BaseException) -> bool:
    """Whether ``error`` says the database is out of reach (down, restarting, the link broken) rather
    than that the work was wrong: such work is worth retrying, and the user is told to wait.

    SQLAlchemy wraps a connection dropped in the middle of a statement or a COMMIT as a plain
    ``DBAPIError`` (asyncpg's ``ConnectionDoesNotExistError``), flagged ``connection_invalidated``.
    """
    if isinstance(error, OperationalError | InterfaceError | OSError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    cause = error.orig.__cause__ if error.orig is not None else None
    return cause is not None and any(k.__name__ in _DRIVER_OUTAGES for k in type(cause).__mro__)


_XID = text("SELECT txid_current_if_assigned() AS xid, pg_backend_pid() AS pid")


class Database:
    """Owns the engine. SQLite gets WAL, foreign keys, immediate write transactions, and its statements
    run on the event loop (long reads in a thread; a locked database waited for on the loop:
    ``crm_core/adapters/sqlite_loop.py``)."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 5) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        # No pre-ping (on asyncpg three round trips per checkout: BEGIN, ";", ROLLBACK): a unit of work
        # sends its BEGIN at once and, on a connection found dead, takes another (``UnitOfWork``).
        options: dict[str, Any] = {"echo": echo, "pool_pre_ping": False}
        if not self.is_sqlite:
            options |= {"pool_size": pool_size, "max_overflow": pool_size * 2}
        else:
            options["module"] = LoopDbapi()
        self.pool_slots = 1 if self.is_sqlite else pool_size * 3
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        self._writer: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self.liveness = Liveness(self)
        # The funnel, kept for the process by the version the schema keeps (``PipelineCache``).
        self.pipeline_cache = PipelineCache()
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

    def uow(self, *, write: bool = True, bookkeeping: bool = False, long: bool = False) -> UnitOfWork:
        """A unit of work; ``write=False`` for read-only work (SQLite then takes no write lock);
        ``bookkeeping`` for state that is safe to write again (dialog steps, the ledger of handled updates);
        ``long`` for work that reads much (reports, exports): on SQLite its statements run in a thread,
        where the others run on the event loop. Within an update's unit of work (``update_uow``) it joins
        that one.
        """
        from crm_core.adapters.update_unit import joined  # here: it builds on UnitOfWork

        return joined(self, write=write, bookkeeping=bookkeeping) or UnitOfWork(
            self, write=write, bookkeeping=bookkeeping, long=long
        )

    def update_uow(self) -> UnitOfWork:
        """An update's unit of work, which the units of work opened within it join (``update_unit``)."""
        from crm_core.adapters.update_unit import UpdateUnit

        return UpdateUnit(self)

    async def dispose(self) -> None:
        await self.liveness.release()
        await self.engine.dispose()

    async def committed(self, xid: int, backend_pid: int) -> bool | None:
        """Whether PostgreSQL transaction ``xid``, whose COMMIT met a broken connection, committed:
        asked on a new connection until the database answers (``None`` when it stays away). A
        transaction still open there (its backend has not noticed its client is gone) is ended.
        """
        deadline = time.monotonic() + COMMIT_RESOLVE_S
        attempt = 0
        while True:
            try:
                async with self.engine.connect() as conn:
                    status = await conn.scalar(text("SELECT txid_status(:x)"), {"x": xid})
                    if status == "in progress":  # the COMMIT never reached it: end it, then it is aborted
                        await conn.execute(
                            text(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE pid = :p AND backend_xid = (:x % 4294967296)::text::xid"
                            ),
                            {"p": backend_pid, "x": xid},
                        )
                    await conn.rollback()
                if status in ("committed", "aborted"):
                    return bool(status == "committed")
                if status is None:  # too old to know: not ours to guess
                    return None
            except (SQLAlchemyError, OSError) as error:
                if not lost_database(error):
                    raise
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(COMMIT_RESOLVE_DELAYS_S[min(attempt, len(COMMIT_RESOLVE_DELAYS_S) - 1)])
            attempt += 1


def _prepare_sqlite(engine: AsyncEngine, database: str | None) -> None:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        for pragma in (
            # No busy handler sleeping in C on the loop's thread: a locked database answers at once,
            # and the statement is tried again after an asyncio sleep (``LoopConnection.run``).
            "busy_timeout=0",
            "journal_mode=WAL",
            "foreign_keys=ON",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, LoopConnection):  # the next user runs on the loop unless it says
            dbapi_connection.offload = False

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A write transaction takes the write lock up front, so two writers queue on the busy
        # timeout instead of failing when a read lock cannot be upgraded.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("kanbot_write", True) else "BEGIN")


async def _began(conn: AsyncConnection) -> bool:
    """Send a PostgreSQL transaction's BEGIN now rather than with its first statement (asyncpg's
    adapter defers it): the round trip that finds a dead pooled connection before any work is done,
    in place of a pre-ping. False when it failed: a BEGIN fails only on a connection that is gone."""
    adapter = (await conn.get_raw_connection()).dbapi_connection
    start = getattr(adapter, "_start_transaction", None)
    if start is None or getattr(adapter, "_transaction", None) is not None:
        return True
    try:
        await start()
    except Exception as error:  # the driver's error, adapted to the DB-API's
        log.info("a pooled connection failed its BEGIN (%s): taking another", type(error).__name__)
        return False
    return True


class UnitOfWork:
    """A transaction with the repositories bound to it; rolls back unless ``commit()`` was called."""

    users: UserRepository
    pipelines: PipelineRepository
    lost_reasons: LostReasonRepository
    contacts: ContactRepository
    deals: DealRepository
    deal_lists: DealLists
    events: EventRepository
    tasks: TaskRepository
    calls: CallRepository
    outbox: OutboxRepository
    invites: InviteRepository
    dialogs: DialogRepository
    processed: ProcessedRepository
    followups: FollowUpRepository
    reports: ReportRepository
    call_requests: CallRequestRepository
    recordings: RecordingRepository
    fields: FieldRepository
    targets: TargetRepository
    summary: SummaryRepository
    api_tokens: ApiTokenRepository
    external_ids: ExternalIdRepository
    deal_pages: DealPageRepository
    webhooks: WebhookRepository
    web_forms: WebFormRepository

    def __init__(
        self, database: Database, *, write: bool, bookkeeping: bool = False, long: bool = False
    ) -> None:
        self.database, self.write, self.bookkeeping, self.long = database, write, bookkeeping, long
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
        # Every pooled connection may have died with the server (a restart): one more than the pool holds.
        for attempt in range(self.database.pool_slots + 1):
            try:
                conn = await self.database.engine.connect()
            except (SQLAlchemyError, OSError) as error:
                self._release()
                if not lost_database(error):
                    raise
                raise Unavailable(type(error).__name__) from error
            self._conn = conn
            try:
                if self.database.is_sqlite:
                    raw = await conn.get_raw_connection()
                    raw.info["kanbot_write"] = self.write
                    if isinstance(raw.dbapi_connection, LoopConnection):
                        raw.dbapi_connection.offload = self.long
                self._tx = await conn.begin()
                if not self.database.is_sqlite and not await _began(conn):
                    # A pooled connection the server had closed: dropped, and the next one tried.
                    await conn.invalidate()
                    await conn.close()
                    self._conn = self._tx = None
                    if attempt < self.database.pool_slots:
                        continue
                    self._release()
                    raise Unavailable("no live connection")
            except BaseException as error:
                await self.__aexit__(type(error), error, error.__traceback__)  # closes the connection
                raise
            break
        self.users = UserRepository(conn)
        self.pipelines = PipelineRepository(conn, self.database.pipeline_cache)
        self.lost_reasons = LostReasonRepository(conn)
        self.contacts = ContactRepository(conn)
        self.deals = DealRepository(conn, funnel=self.pipelines)
        self.deal_lists = DealLists(conn)
        self.events = EventRepository(conn)
        self.tasks = TaskRepository(conn)
        self.calls = CallRepository(conn)
        self.outbox = OutboxRepository(conn)
        self.invites = InviteRepository(conn)
        self.dialogs = DialogRepository(conn)
        self.processed = ProcessedRepository(conn, self.database.liveness)
        self.followups = FollowUpRepository(conn)
        self.reports = ReportRepository(conn)
        self.call_requests = CallRequestRepository(conn)
        self.recordings = RecordingRepository(conn)
        self.fields = FieldRepository(conn)
        self.targets = TargetRepository(conn)
        self.summary = SummaryRepository(conn)
        self.api_tokens = ApiTokenRepository(conn)
        self.external_ids = ExternalIdRepository(conn)
        self.deal_pages = DealPageRepository(conn)
        self.webhooks = WebhookRepository(conn)
        self.web_forms = WebFormRepository(conn)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                await self._tx.rollback()
        except (SQLAlchemyError, OSError) as error:
            if not lost_database(error):
                raise
            # the connection is gone, and the transaction with it
        finally:
            if self._conn is not None:
                with contextlib.suppress(SQLAlchemyError, OSError):
                    await self._conn.close()
            self._conn = self._tx = None
            self._release()
        if exc is not None and lost_database(exc):
            raise Unavailable(type(exc).__name__) from exc
        if isinstance(exc, IntegrityError):  # a unique key another transaction took meanwhile
            raise Duplicate(type(exc).__name__) from exc

    def refused(self) -> None:
        """A refusal before any write: on its own a unit of work rolls back all the same."""

    async def commit(self) -> None:
        """Commit; a COMMIT whose connection broke is found out (PostgreSQL): done, it returns as
        usual; not done, ``Unavailable`` (safe to do again); unknown, ``Unavailable`` counted as a
        change saved, so that the chat does not do it twice."""
        assert self._tx is not None
        # The transaction's id, to ask afterwards whether a COMMIT that got no answer happened.
        asked = self.write and not self.bookkeeping and not self.database.is_sqlite
        mark = (await self.connection.execute(_XID)).one() if asked else None
        try:
            await self._tx.commit()
        except (SQLAlchemyError, OSError) as error:
            if not lost_database(error):
                raise
            outcome: bool | None = False
            if mark is not None and mark.xid is not None:
                log.warning("a COMMIT met a broken connection; asking the database whether it happened")
                outcome = await self.database.committed(int(mark.xid), int(mark.pid))
            if outcome is not True:
                if outcome is None:
                    self._count_saved()
                raise Unavailable(type(error).__name__) from error
        self._count_saved()

    def _count_saved(self) -> None:
        saved = saved_changes.get()
        if saved is not None and not self.bookkeeping:
            saved[0] += 1

    def _release(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
