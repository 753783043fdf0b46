"""Group commit for calls on a database that writes one transaction at a time (SQLite).

A call that finds the writer idle is written at once, alone. Calls that arrive while it writes queue,
and the writer then takes all of them (up to ``MAX_BATCH``) in one transaction: one BEGIN, one COMMIT
and one turn of the database's write lock for the lot, each call's result still its own. A call that
fails inside a batch fails the batch's transaction; the batch is rolled back and each of its calls
written again alone, so one failing call never fails the others (its own failure is what it raises).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol
from weakref import WeakKeyDictionary

from crm_core.domain.calls import CallEvent, IngestOutcome
from crm_core.services.unit_of_work import Storage, UnitOfWork

log = logging.getLogger(__name__)
MAX_BATCH = 32  # calls in one transaction at most: others' writes wait for the lock no longer than that


@dataclass(slots=True)
class Ingested:
    """A call written in a transaction that is not committed yet: its outcome, and whether it wrote."""

    outcome: IngestOutcome
    wrote: bool
    note: str | None = ""  # what the log adds of it once committed (``None``: nothing is logged)


class Ingests(Protocol):
    """The service whose calls the writer writes (``CallIngest``)."""

    async def ingest_alone(self, event: CallEvent) -> IngestOutcome:
        """Write the call in a transaction of its own (retried as the service sees fit)."""
        ...

    async def ingest_in(self, uow: UnitOfWork, event: CallEvent) -> Ingested:
        """Write the call in ``uow``, without committing."""
        ...

    def logged(self, event: CallEvent, ingested: Ingested) -> None:
        """Log a written call, once its transaction committed."""
        ...


@dataclass(slots=True)
class _Queued:
    service: Ingests
    event: CallEvent
    future: asyncio.Future[IngestOutcome] = field(repr=False)


class CallWriter:
    """The calls of one database and event loop, written in turn (see the module's docstring)."""

    def __init__(self, db: Storage, loop: asyncio.AbstractEventLoop) -> None:
        self.db, self.loop = db, loop
        self.queue: deque[_Queued] = deque()
        self.task: asyncio.Task[None] | None = None

    async def write(self, service: Ingests, event: CallEvent) -> IngestOutcome:
        """Write the call with the others queued now; its outcome, or what its own writing raised."""
        item = _Queued(service, event, self.loop.create_future())
        self.queue.append(item)
        if self.task is None:
            self.task = self.loop.create_task(self._drain(), name="kanbot-call-writer")
        return await item.future

    async def _drain(self) -> None:
        try:
            while self.queue:
                taken = [self.queue.popleft() for _ in range(min(len(self.queue), MAX_BATCH))]
                batch = [item for item in taken if not item.future.done()]  # its poster went away
                if len(batch) == 1:
                    await _alone(batch[0])
                elif batch:
                    await self._together(batch)
        except BaseException:
            for item in self.queue:
                item.future.cancel()
            self.queue.clear()
            raise
        finally:
            self.task = None

    async def _together(self, batch: Sequence[_Queued]) -> None:
        try:
            written = []
            async with self.db.uow() as uow:
                for item in batch:
                    written.append(await item.service.ingest_in(uow, item.event))
                if any(w.wrote for w in written):
                    await uow.commit()
        except Exception as error:  # each call is written again alone: it raises its own
            log.info("%d calls failed together (%s): writing each alone", len(batch), type(error).__name__)
            for item in batch:
                await _alone(item)
            return
        for item, ingested in zip(batch, written, strict=True):
            if ingested.wrote:
                item.service.logged(item.event, ingested)
            if not item.future.done():
                item.future.set_result(ingested.outcome)


async def _alone(item: _Queued) -> None:
    try:
        outcome = await item.service.ingest_alone(item.event)
    except Exception as error:  # handed to the call's poster
        if not item.future.done():
            item.future.set_exception(error)
        return
    if not item.future.done():
        item.future.set_result(outcome)


_writers: WeakKeyDictionary[Storage, CallWriter] = WeakKeyDictionary()


def call_writer(db: Storage) -> CallWriter:
    """The call writer of ``db`` on the running event loop."""
    loop = asyncio.get_running_loop()
    writer = _writers.get(db)
    if writer is None or writer.loop is not loop:
        writer = _writers[db] = CallWriter(db, loop)
    return writer
