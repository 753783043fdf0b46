"""An update's unit of work: one transaction that the units of work opened within it join.

A button press used to be five transactions (its claim in the handled-updates ledger, the change, the
card's reads, the done mark), each a BEGIN and a COMMIT, each a checkout of a connection. Within an
``UpdateUnit`` (``Database.update_uow()``) every unit of work the services open in the same task is a
``JoinedUnit``: the same connection and transaction, the same repositories (so what one read, such as
the funnel's version, the next one knows), its ``commit()`` deferred to the update's.

A change that fails must leave the update's claim and its answer. A joined unit that writes after
another's writes were kept starts at a savepoint and goes back to it unless committed. The first one
(a press's move, as a rule) takes no savepoint, a statement on every press for a rare failure: when it
fails, what it wrote may be in the transaction, so the update's commit rolls the whole update back
and raises ``UpdateBroken``, and the ledger records the claim on its own (nothing else was kept). A unit whose
error came before it wrote anything says so (``refused()``: a stale version, a field the stage requires)
and the update goes on whole: the chat may then ask for the fields within the same update. The
answer was made meanwhile from the same transaction: a refusal is found before anything is written
(the version, the rights, the domain's rules), so what it reads is as it was.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from crm_core.domain.errors import Duplicate, Unavailable
from crm_core.services.unit_of_work import UpdateBroken

if TYPE_CHECKING:
    from crm_core.adapters.database import Database

from crm_core.adapters import database as _db

# The update's unit of work of the running task, if any (a context variable: per task, so concurrent
# updates each have their own).
_current: ContextVar[UpdateUnit | None] = ContextVar("kanbot_update_unit", default=None)
_REPOSITORIES = tuple(_db.UnitOfWork.__annotations__)


def joined(database: Database, *, write: bool, bookkeeping: bool) -> JoinedUnit | None:
    """A unit of work joining the running task's update unit on ``database``; None outside one."""
    outer = _current.get()
    if outer is None or outer.database is not database or not outer.open:
        return None
    return JoinedUnit(outer, write=write, bookkeeping=bookkeeping)


class UpdateUnit(_db.UnitOfWork):
    """The update's transaction: a write, bookkeeping until a joined unit commits a change (then its
    COMMIT is a change's: a lost one is found out and counted as saved, as a change's own would be)."""

    def __init__(self, database: Database) -> None:
        super().__init__(database, write=True, bookkeeping=True)
        self.open = False
        # A change failed unguarded by a savepoint (or a statement failed: PostgreSQL then ends the
        # transaction): the update is rolled back at its commit, and its claim recorded on its own.
        self.broken = False
        self.kept = False  # a joined unit's writes are kept: a later change must not lose them
        self._savepoints = 0
        self._token: Token[UpdateUnit | None] | None = None

    async def __aenter__(self) -> UpdateUnit:
        await super().__aenter__()
        self.open = True
        self._token = _current.set(self)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.open = False
        if self._token is not None:
            _current.reset(self._token)
            self._token = None
        await super().__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        """Commit the update; ``UpdateBroken`` (rolled back) when a change or a statement within failed
        unguarded by a savepoint."""
        if self.broken:
            await self._tx_rollback()
            raise UpdateBroken()
        await super().commit()

    async def _tx_rollback(self) -> None:
        tx = self._tx
        if tx is not None and tx.is_active:
            try:
                await tx.rollback()
            except (SQLAlchemyError, OSError) as error:
                if not _db.lost_database(error):
                    raise
                raise Unavailable(type(error).__name__) from error

    async def savepoint(self) -> str:
        self._savepoints += 1
        name = f"kanbot_unit_{self._savepoints}"
        await self._run(f"SAVEPOINT {name}")
        return name

    async def back_to(self, savepoint: str) -> None:
        self.tasks.forget()  # what was read after the savepoint may have changed back
        await self._run(f"ROLLBACK TO SAVEPOINT {savepoint}")

    async def _run(self, sql: str) -> None:
        try:
            await self.connection.exec_driver_sql(sql)
        except (SQLAlchemyError, OSError) as error:
            if _db.lost_database(error):
                raise Unavailable(type(error).__name__) from error
            self.broken = True
            raise


class JoinedUnit(_db.UnitOfWork):
    """A service's unit of work within an update's: its statements run in the update's transaction."""

    def __init__(self, outer: UpdateUnit, *, write: bool, bookkeeping: bool) -> None:
        super().__init__(outer.database, write=write, bookkeeping=bookkeeping)
        self.outer = outer
        self._savepoint: str | None = None
        self._committed = False
        self._refused = False

    def refused(self) -> None:
        """The error leaving this unit came before it wrote anything: the update stays whole."""
        self._refused = True

    async def __aenter__(self) -> JoinedUnit:
        outer = self.outer
        for name in _REPOSITORIES:
            setattr(self, name, getattr(outer, name))
        self._conn = outer.connection
        if self.write and outer.kept:
            self._savepoint = await outer.savepoint()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._conn = None  # the update's: it closes it
        if self.write and not self._committed:
            if self._savepoint is not None:
                await self.outer.back_to(self._savepoint)
            elif exc is not None and not self._refused:
                self.outer.broken = True  # what it wrote, if anything, goes with the update
            # Left without an error and uncommitted, a unit wrote nothing: the services commit their
            # writes or raise (a write unit that decides there is nothing to do, as adopting a locale
            # already chosen, just leaves).
        elif isinstance(exc, SQLAlchemyError) and not self.database.is_sqlite:
            self.outer.broken = True  # unguarded by a savepoint: PostgreSQL ended the transaction
        if exc is not None and _db.lost_database(exc):
            raise Unavailable(type(exc).__name__) from exc
        if isinstance(exc, IntegrityError):
            raise Duplicate(type(exc).__name__) from exc

    async def commit(self) -> None:
        """Kept for the update's commit; a change makes the update's commit a change's."""
        self._committed = True
        if self.write:
            self.outer.kept = True
            if not self.bookkeeping:
                self.outer.bookkeeping = False
