"""The unit of work the services depend on: a transaction with the repositories bound to it.

A protocol, so that the services know nothing of the database behind it; ``crm_core.adapters.database``
implements it with SQLAlchemy (and tests may with fakes).
"""

from __future__ import annotations

from contextvars import ContextVar
from types import TracebackType
from typing import Protocol

from crm_core.services import repositories as r

# Commits of changes (not bookkeeping), counted for whoever sets a counter here: the chat core, for each
# attempt at an update. Work that saved a change when the database went away is not done again blindly.
saved_changes: ContextVar[list[int] | None] = ContextVar("kanbot_saved_changes", default=None)


class UnitOfWork(Protocol):
    """Rolls back on leaving unless ``commit()`` was called; its repositories never commit."""

    @property
    def users(self) -> r.Users: ...
    @property
    def pipelines(self) -> r.Pipelines: ...
    @property
    def lost_reasons(self) -> r.LostReasons: ...
    @property
    def contacts(self) -> r.Contacts: ...
    @property
    def deals(self) -> r.Deals: ...
    @property
    def events(self) -> r.Events: ...
    @property
    def deal_lists(self) -> r.DealLists: ...
    @property
    def tasks(self) -> r.Tasks: ...
    @property
    def calls(self) -> r.Calls: ...
    @property
    def outbox(self) -> r.Outbox: ...
    @property
    def invites(self) -> r.Invites: ...
    @property
    def dialogs(self) -> r.Dialogs: ...
    @property
    def processed(self) -> r.Processed: ...
    @property
    def followups(self) -> r.FollowUps: ...
    @property
    def call_requests(self) -> r.CallRequests: ...
    @property
    def recordings(self) -> r.Recordings: ...
    @property
    def reports(self) -> r.Reports: ...

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None:
        """Commit; ``Unavailable`` when the database went away (and the change may not be saved)."""
        ...


class Liveness(Protocol):
    async def hold(self) -> str | None:
        """This process's liveness claim (a name other processes can check it is alive by)."""
        ...


class Storage(Protocol):
    """Where the CRM keeps its state: gives units of work."""

    @property
    def liveness(self) -> Liveness: ...

    def uow(self, *, write: bool = True, bookkeeping: bool = False) -> UnitOfWork:
        """A unit of work; ``write=False`` for read-only work, ``bookkeeping`` for state safe to write
        again (dialog steps, the ledger of handled updates)."""
        ...
