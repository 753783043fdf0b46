"""What a telephone call does to the CRM: ``ingest_call``, idempotent on (provider, call id).

A call is recorded, and makes or touches a deal and a call-back task (``CallDeals``), and a pop-up card.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from crm_core.config import CreateDealsFrom
from crm_core.domain.calls import CallDirection, Caller, CallEvent, CallRecord, CallStatus, IngestOutcome
from crm_core.domain.deals import Deal
from crm_core.domain.errors import Duplicate, InvalidInput
from crm_core.domain.notifications import (
    CallAnswered,
    CallEnded,
    CallMissed,
    CallNotice,
    CallUnknown,
    Notification,
)
from crm_core.domain.phones import mask
from crm_core.domain.tasks import Task
from crm_core.domain.users import User
from crm_core.services.call_backs import ask_who_is_calling, close_the_loop, still_asking_who
from crm_core.services.call_deals import CallDeals, CallResult
from crm_core.services.call_notices import queue_missed_call, tell_bosses_of_flood
from crm_core.services.call_seals import BoundMeanwhile, check_seal
from crm_core.services.call_writer import Ingested, call_writer
from crm_core.services.colleague_calls import colleague_calls, tell_of_colleague_calls
from crm_core.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
MAX_PROVIDER, MAX_CALL_ID = 32, 128  # the calls table's columns
_Notice = TypeVar("_Notice", bound=CallNotice)


MAX_EXTENSION = 32  # the calls table's answered_by_ext


def _check_storable(event: CallEvent) -> None:
    """Refuse, as bad input, what the database would fail on (and a PBX or the bridge would retry
    forever as if the CRM were down): an over-long extension, a NUL character (PostgreSQL has none)."""
    if event.answered_by is not None and len(event.answered_by) > MAX_EXTENSION:
        raise InvalidInput(
            "answered_by", event.answered_by[:40], detail=f"at most {MAX_EXTENSION} characters"
        )
    texts = (event.call_id, event.provider, event.answered_by or "", *event.rang, *event.transfers)
    if any("\x00" in text for text in texts):
        raise InvalidInput(
            "call", event.call_id[:40].replace("\x00", "\\0"), detail="it contains a NUL character"
        )


class CallIngest(CallDeals):
    """The calls a PBX reports, as ``CallService`` ingests them."""

    async def ingest_call(self, event: CallEvent) -> IngestOutcome:
        """Record a call and let it make or touch a deal, a call-back task and a pop-up card.

        A repeated event changes nothing more; the final event of a call first seen in progress
        completes the call's record without a second deal or pop-up. On a database with one writer
        (SQLite) calls that queue behind it are written together (``call_writer``).
        """
        _check_storable(event)
        if not 0 < len(event.provider) <= MAX_PROVIDER or not 0 < len(event.call_id) <= MAX_CALL_ID:
            raise InvalidInput(
                "call",
                event.call_id[:40],
                detail=f"provider 1-{MAX_PROVIDER} and call id 1-{MAX_CALL_ID} characters",
            )
        if self._one_writer():
            return await call_writer(self.db).write(self, event)
        return await self.ingest_alone(event)

    def _one_writer(self) -> bool:
        """Whether the database writes one transaction at a time (SQLite's ``Database``): then calls
        waiting for it gain from sharing a transaction, where on PostgreSQL they are written side by side."""
        return bool(getattr(self.db, "is_sqlite", False))

    async def ingest_alone(self, event: CallEvent) -> IngestOutcome:
        """``ingest_call`` in a transaction of its own."""
        for attempt in range(2):
            try:
                async with self.db.uow() as uow:
                    ingested = await self.ingest_in(uow, event)
                    if ingested.wrote:
                        await uow.commit()
                if ingested.wrote:
                    self.logged(event, ingested)
                return ingested.outcome
            except (Duplicate, BoundMeanwhile):
                # The same call raced in from another process and won: the next pass sees it.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def ingest_in(self, uow: UnitOfWork, event: CallEvent) -> Ingested:
        """Write the call in ``uow``, which the caller commits if it ``wrote``."""
        now = self.now()
        if event.seal is not None and not await check_seal(
            uow, event.provider, event.call_id, event.seal, at=now
        ):
            raise BoundMeanwhile(event.provider, event.call_id)
        known, caller = await uow.calls.arrival(event.provider, event.call_id, phone=self._customer(event))
        if known is not None and (known.is_final or not event.is_final):
            return Ingested(IngestOutcome(event.call_id, known.deal_id, created=False, duplicate=True), False)
        answerer = await uow.users.by_extension(event.answered_by) if event.answered_by else None
        if known is not None:
            await self._complete(uow, known, event, answerer, now)
            outcome = IngestOutcome(event.call_id, known.deal_id, created=False, duplicate=False)
            return Ingested(outcome, True, note=None)  # nothing to log
        result = await self._apply(uow, event, caller, answerer, now)
        if result.created:
            await self._store_new_deal(uow, result, event, now)
        deal_id = result.deal.id if result.deal else None
        if result.held:
            await self._tell_of_flood(uow, now)
        seller = answerer or await self._placed_by(uow, event)
        call_id = await uow.calls.add(
            event,
            deal_id=deal_id,
            answered_by_id=seller.id if seller else None,
            at=now,
            new_number=result.new_number,
            held=result.held,
        )
        if result.deal is not None:
            await self._record_on_deal(uow, result.deal, result, event, call_id, now)
        done = await close_the_loop(uow, event, answerer, call_id=call_id, now=now, actor=self._system(event))
        await self._tell_owners(uow, event, answerer, result.deal, done, now)
        if not result.held:
            await self._notify(uow, event, result, answerer, call_id, now)
        note = " (new)" if result.created else " (held back: call flood)" if result.held else ""
        return Ingested(
            IngestOutcome(event.call_id, deal_id, created=result.created, duplicate=False), True, note
        )

    def logged(self, event: CallEvent, ingested: Ingested) -> None:
        """Log a call whose transaction committed."""
        if ingested.note is None:
            return
        log.info(
            "call %s/%s from %s: %s %s, deal %s%s",
            event.provider,
            event.call_id,
            mask(event.caller),
            event.direction,
            event.status,
            ingested.outcome.deal_id,
            ingested.note,
        )

    async def _placed_by(self, uow: UnitOfWork, event: CallEvent) -> User | None:
        """Who placed an outbound call that did not connect (the extension the PBX names first)."""
        if event.direction is not CallDirection.OUTBOUND or not event.rang:
            return None
        return await uow.users.by_extension(event.rang[0])

    def _makes_deals(self, event: CallEvent) -> bool:
        if event.direction is not CallDirection.INBOUND or event.caller is None:
            return False
        return event.caller not in self.config.own_numbers and event.caller not in self.config.blocked_numbers

    def _customer(self, event: CallEvent) -> str | None:
        """The number of the call's customer: who called in, or who was called; ``None`` when hidden
        or one of the company's own numbers."""
        customer = event.dialed if event.direction is CallDirection.OUTBOUND else event.caller
        if customer is None or customer in self.config.own_numbers:
            return None
        return customer

    async def _apply(
        self, uow: UnitOfWork, event: CallEvent, caller: Caller, answerer: User | None, now: datetime
    ) -> CallResult:
        """What the call does to its customer's deal; ``caller``: who the customer is (``_customer``)."""
        if self._customer(event) is None:
            return CallResult()
        deal = caller.open_deals[0] if caller.open_deals else None
        joined = CallResult(deal, latest_task_due=caller.latest_open_task_due)
        if event.direction is CallDirection.OUTBOUND:
            return joined
        if not self._makes_deals(event):
            return CallResult()
        if deal is not None:
            if deal.owner is None and answerer is not None and event.status is CallStatus.ANSWERED:
                joined.history.append(deal.reassign(answerer, at=now, actor=self._system(event)))
            return joined
        mode = self.config.calls_create_deals
        if event.status is CallStatus.ANSWERED and mode is not CreateDealsFrom.ALL:
            return CallResult()
        if event.status is CallStatus.MISSED and mode is CreateDealsFrom.NONE:
            return CallResult()
        if caller.contact is None and await self._holds_back(uow, event, now):
            return CallResult(new_number=True, held=True)
        owner = answerer if event.status is CallStatus.ANSWERED else await self._missed_call_owner(uow, event)
        result = await self._new_deal(uow, event, caller.contact, owner, now)
        result.new_number = True
        return result

    async def _holds_back(self, uow: UnitOfWork, event: CallEvent, now: datetime) -> bool:
        """A missed call from a number never seen, in a call flood: recorded, but it makes nothing.

        An answered call always makes its deal: a seller is talking to the caller."""
        rule = self.config.call_flood
        if rule.limit <= 0 or event.status is not CallStatus.MISSED:
            return False
        return rule.holds_back(await uow.calls.new_numbers_since(now - rule.window))

    async def _tell_of_flood(self, uow: UnitOfWork, now: datetime) -> None:
        rule = self.config.call_flood
        starts = rule.starts_flood(await uow.calls.last_held_at(), now)
        if starts:
            log.warning(
                "call flood: more than %s new numbers in %s; holding back their calls",
                rule.limit,
                rule.window,
            )
        await tell_bosses_of_flood(uow, rule, starts=starts, since=now - rule.window, now=now)

    async def _complete(
        self, uow: UnitOfWork, known: CallRecord, event: CallEvent, answerer: User | None, now: datetime
    ) -> None:
        """The final event of a call first reported in progress: fill in its end, nothing more."""
        await uow.calls.complete(
            known.id,
            event,
            deal_id=known.deal_id,
            answered_by_id=answerer.id if answerer else known.answered_by_id,
        )
        if known.deal_id is not None and known.status is CallStatus.ANSWERED:
            await _tell_call_ended(uow, event, answerer, call_id=known.id, deal_id=known.deal_id, now=now)
        if known.status is not CallStatus.ANSWERED:  # an answered call's first event did it already
            done = await close_the_loop(
                uow, event, answerer, call_id=known.id, now=now, actor=self._system(event)
            )
            deal = await uow.deals.get(known.deal_id) if known.deal_id is not None else None
            await self._tell_owners(uow, event, answerer, deal, done, now)

    async def _tell_owners(
        self,
        uow: UnitOfWork,
        event: CallEvent,
        answerer: User | None,
        deal: Deal | None,
        done: list[tuple[Task, Deal]],
        now: datetime,
    ) -> None:
        """Tell the owners whose customers a colleague spoke with (in their batched notice)."""
        answered = event.direction is CallDirection.INBOUND and event.status is CallStatus.ANSWERED
        told = colleague_calls(answerer, deal, answered, done)
        if told:
            await tell_of_colleague_calls(uow, told, window=self.config.colleague_calls_window, now=now)

    async def _notify(
        self,
        uow: UnitOfWork,
        event: CallEvent,
        result: CallResult,
        answerer: User | None,
        call_id: int,
        now: datetime,
    ) -> None:
        deal = result.deal
        if event.direction is CallDirection.OUTBOUND and deal is not None:
            await _tell_call_ended(uow, event, answerer, call_id=call_id, deal_id=deal.id, now=now)
            return
        if event.direction is not CallDirection.INBOUND or event.caller is None:
            return

        def notice(kind: type[_Notice]) -> _Notice:
            """What every notice of the call says, as a notice of ``kind``."""
            return kind(
                call_id=call_id,
                caller=event.caller,
                deal_id=deal.id if deal else None,
                created=result.created,
                duration_s=event.duration_s,
                deal_title=deal.title if deal else None,
                owner_name=deal.owner.name if deal and deal.owner else None,
                ended=event.is_final,
            )

        if event.status is CallStatus.ANSWERED and answerer is not None:
            payload: CallNotice
            if deal is None:
                if not self._makes_deals(event):
                    return
                payload = notice(CallUnknown)
            else:
                ask_who = (
                    await ask_who_is_calling(uow, answerer, deal_id=deal.id, now=now)
                    if result.created
                    else None
                )
                payload = replace(notice(CallAnswered), ask_who=ask_who)
            await uow.outbox.put(Notification(answerer.id, payload, dedup_key=pop_up_key(call_id)), at=now)
            return
        if event.status is not CallStatus.MISSED or not self._makes_deals(event):
            return
        call_back = result.call_back  # found or made with the call's history line
        recipient = (
            deal.owner_id if deal and deal.owner_id else (call_back.assignee_id if call_back else None)
        )
        missed = replace(notice(CallMissed), task_id=call_back.id if call_back else None)
        await queue_missed_call(
            uow, missed, recipient=recipient, window=self.config.repeat_call_window, now=now
        )


async def _tell_call_ended(
    uow: UnitOfWork, event: CallEvent, answerer: User | None, *, call_id: int, deal_id: int, now: datetime
) -> None:
    """An answered call is over: its seller is asked how it went (once per call), in the call's pop-up
    if it had one (the delivery edits it: one live card per call)."""
    if answerer is None or event.status is not CallStatus.ANSWERED or not event.is_final:
        return
    payload = CallEnded(
        call_id=call_id,
        caller=event.dialed if event.direction is CallDirection.OUTBOUND else event.caller,
        deal_id=deal_id,
        duration_s=event.duration_s,
        # The pop-up asked "Who is calling?" and the seller has not answered yet: the card still asks.
        ask_who=await still_asking_who(uow, answerer, deal_id=deal_id, now=now),
    )
    note = Notification(answerer.id, payload, dedup_key=f"ended:{call_id}", edits=pop_up_key(call_id))
    await uow.outbox.put(note, at=now)


def pop_up_key(call_id: int) -> str:
    """The dedup key of a call's pop-up: one per call, and what the call's end is shown in."""
    return f"pop:{call_id}"
