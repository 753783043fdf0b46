"""The unit of work the services depend on: a transaction with the repositories bound to it.

A protocol, so that the services know nothing of the database behind it; ``crm_core.adapters.database``
implements it with SQLAlchemy (and tests may with fakes).
"""

from __future__ import annotations

from contextvars import ContextVar
from types import TracebackType
from typing import Protocol

from crm_core.services.repositories.api_tokens import ApiTokens, DealPages
from crm_core.services.repositories.calls import CallRequests, Calls, Recordings
from crm_core.services.repositories.conversations import Dialogs, Invites, Processed
from crm_core.services.repositories.deals import Contacts, DealLists, Deals, Events
from crm_core.services.repositories.external_ids import ExternalIds
from crm_core.services.repositories.fields import Fields
from crm_core.services.repositories.followups import FollowUps
from crm_core.services.repositories.funnel import LostReasons, Pipelines
from crm_core.services.repositories.outbox import Outbox
from crm_core.services.repositories.reports import Reports
from crm_core.services.repositories.targets import SummaryFigures, Targets
from crm_core.services.repositories.tasks import Tasks
from crm_core.services.repositories.users import Users
from crm_core.services.repositories.web_forms import WebForms
from crm_core.services.repositories.webhooks import Webhooks

# Commits of changes (not bookkeeping), counted for whoever sets a counter here: the chat core, for each
# attempt at an update. Work that saved a change when the database went away is not done again blindly.
saved_changes: ContextVar[list[int] | None] = ContextVar("kanbot_saved_changes", default=None)


class UpdateBroken(Exception):
    """An update's unit of work held a change that failed (or a statement that failed) unguarded by a
    savepoint, and was rolled back."""


class UnitOfWork(Protocol):
    """Rolls back on leaving unless ``commit()`` was called; its repositories never commit."""

    @property
    def users(self) -> Users: ...
    @property
    def pipelines(self) -> Pipelines: ...
    @property
    def lost_reasons(self) -> LostReasons: ...
    @property
    def contacts(self) -> Contacts: ...
    @property
    def deals(self) -> Deals: ...
    @property
    def events(self) -> Events: ...
    @property
    def deal_lists(self) -> DealLists: ...
    @property
    def tasks(self) -> Tasks: ...
    @property
    def calls(self) -> Calls: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def invites(self) -> Invites: ...
    @property
    def dialogs(self) -> Dialogs: ...
    @property
    def processed(self) -> Processed: ...
    @property
    def followups(self) -> FollowUps: ...
    @property
    def call_requests(self) -> CallRequests: ...
    @property
    def recordings(self) -> Recordings: ...
    @property
    def reports(self) -> Reports: ...
    @property
    def fields(self) -> Fields: ...
    @property
    def targets(self) -> Targets: ...
    @property
    def summary(self) -> SummaryFigures: ...
    @property
    def api_tokens(self) -> ApiTokens: ...
    @property
    def external_ids(self) -> ExternalIds: ...
    @property
    def deal_pages(self) -> DealPages: ...
    @property
    def webhooks(self) -> Webhooks: ...
    @property
    def web_forms(self) -> WebForms: ...

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None:
        """Commit; ``Unavailable`` when the database went away (and the change may not be saved)."""
        ...

    def refused(self) -> None:
        """Say that the error about to leave this unit was found before it wrote anything (a rule's
        refusal): within an update's unit of work, what the update wrote before and after stays."""
        ...


class Liveness(Protocol):
    async def hold(self) -> str | None:
        """This process's liveness claim (a name other processes can check it is alive by)."""
        ...


class Storage(Protocol):
    """Where the CRM keeps its state: gives units of work."""

    @property
    def liveness(self) -> Liveness: ...

    def uow(self, *, write: bool = True, bookkeeping: bool = False, long: bool = False) -> UnitOfWork:
        """A unit of work; ``write=False`` for read-only work, ``bookkeeping`` for state safe to write
        again (dialog steps, the ledger of handled updates), ``long`` for work that reads much (reports,
        exports), which the storage may run off the event loop."""
        ...

    def update_uow(self) -> UnitOfWork:
        """An update's unit of work: the units of work opened within it, in the same task, join its
        transaction (their commits wait for its commit). A write, bookkeeping until a change is
        committed within it; ``commit()`` raises ``UpdateBroken`` (and rolls back) when a change within
        failed unguarded by a savepoint (the first change takes none)."""
        ...
