"""What a telephone call does to the CRM: ``ingest_call``, idempotent on (provider, call id)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from crm_core.config import CreateDealsFrom
from crm_core.domain.calls import CallDirection, CallEvent, CallRecord, CallSeal, CallStatus, IngestOutcome
from crm_core.domain.deals import Actor, Contact, Deal, DealEvent, EventKind, Source
from crm_core.domain.errors import Duplicate, InvalidInput, NotFound, NotTaken, Why
from crm_core.domain.notifications import (
    CallAnswered,
    CallEnded,
    CallMissed,
    CallNotice,
    CallUnknown,
    Notification,
)
from crm_core.domain.phones import mask, pretty
from crm_core.domain.tasks import Task, TaskKind
from crm_core.domain.users import Role, User
from crm_core.services.base import ServiceBase, default_pipeline, require_active
from crm_core.services.call_backs import ask_who_is_calling, close_the_loop, still_asking_who
from crm_core.services.call_notices import queue_missed_call, tell_bosses_of_flood
from crm_core.services.call_seals import BoundMeanwhile, check_seal
from crm_core.services.colleague_calls import colleague_calls, tell_of_colleague_calls
from crm_core.services.unit_of_work import UnitOfWork

_Notice = TypeVar("_Notice", bound=CallNotice)

log = logging.getLogger(__name__)
MAX_PROVIDER, MAX_CALL_ID = 32, 128  # the calls table's columns


@dataclass(slots=True)
class _Result:
    """What a call does to its deal, gathered so that its writes go out together."""

    deal: Deal | None = None
    created: bool = False
    # When the deal's open tasks are due at the latest, read with the deal (the deal's follow-up needs
    # it); ``tasks_read`` False: not read, the deal's save reads it.
    latest_task_due: datetime | None = None
    tasks_read: bool = True
    history: list[DealEvent] = field(default_factory=list)  # the deal's new history lines, in order
    call_back: Task | None = None  # the deal's open call-back task, after a missed call
    new_number: bool = False  # the caller had no open deal: the call made one, or was held back
    held: bool = False  # held back in a call flood: recorded, without a deal, call-back or notice


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


class CallService(ServiceBase):
    async def of_deal(self, *, deal_id: int, actor: User, limit: int = 20) -> list[CallRecord]:
        """The deal's calls, newest first, if the actor may see the deal."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            deal = await uow.deals.get_visible(deal_id, viewer=actor)
            return await uow.calls.of_deal(deal.id, limit=limit)

    async def _call_for(self, uow: UnitOfWork, call_id: int, actor: User) -> CallRecord:
        """A call the actor took (or any call, for a boss); others' calls look like no call at all."""
        require_active(actor)
        call = await uow.calls.get(call_id)
        if call is None or (not actor.is_boss and call.answered_by_id != actor.id):
            raise NotFound("call", call_id)
        return call

    async def create_deal_from_call(self, *, call_id: int, actor: User) -> Deal:
        """The pop-up's "Create a deal": the caller becomes a deal in the inbox, owned by the actor."""
        now = self.now()
        async with self.db.uow() as uow:
            call = await self._call_for(uow, call_id, actor)
            if call.deal_id is not None:
                deal = await uow.deals.get_visible(call.deal_id, viewer=actor)
                return deal
            if call.caller is None:
                raise InvalidInput("call", call_id, Why.HIDDEN_CALLER)
            caller = await uow.calls.caller(call.caller)
            event = _as_event(call)
            if caller.open_deals:
                result = _Result(caller.open_deals[0], latest_task_due=caller.latest_open_task_due)
            else:
                result = await self._new_deal(uow, event, caller.contact, actor, now)
            assert result.deal is not None
            await uow.calls.link(call.id, result.deal.id)
            await self._record_on_deal(uow, result.deal, result, event, call.id, now)
            await uow.commit()
        return result.deal

    async def attach_call(self, *, call_id: int, deal_id: int, actor: User) -> Deal:
        """The pop-up's "Attach to a deal": the call joins the deal, and its number the deal's contact."""
        now = self.now()
        async with self.db.uow() as uow:
            call = await self._call_for(uow, call_id, actor)
            deal = await uow.deals.get_visible(deal_id, viewer=actor)
            if not actor.is_boss and deal.owner_id != actor.id:
                raise NotTaken("attach calls to")
            missing_phone = deal.contact is None or deal.contact.phone is None
            if call.caller and missing_phone and await uow.contacts.by_phone(call.caller) is None:
                if deal.contact is None:
                    deal.contact = await uow.contacts.add(name=None, phone=call.caller, company=None, at=now)
                else:
                    deal.contact.phone = call.caller
                    await uow.contacts.save(deal.contact)
            await uow.calls.link(call.id, deal.id)
            await self._record_on_deal(
                uow, deal, _Result(deal, tasks_read=False), _as_event(call), call.id, now
            )
            await uow.commit()
        return deal

    async def recent_open_deals(self, *, actor: User, limit: int = 8) -> list[Deal]:
        """The actor's most recently active open deals: what a call most likely belongs to."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            return await uow.deal_lists.recent_open(actor.id, limit=limit)

    async def bind_seal(self, *, provider: str, call_id: str, seal: CallSeal) -> None:
        """Bind what a PBX signed of a ringing call to the call's id (before the call itself is reported).

        Raises ``CallSealRefused`` when the signed part is bound to another call, or this call's first
        notification signed other values.
        """
        for attempt in range(2):
            async with self.db.uow() as uow:
                if await check_seal(uow, provider, call_id, seal, at=self.now()):
                    await uow.commit()
                    return
            if attempt:
                raise BoundMeanwhile(provider, call_id)

    async def ingest_call(self, event: CallEvent) -> IngestOutcome:
        """Record a call and let it make or touch a deal, a call-back task and a pop-up card.

        A repeated event changes nothing more; the final event of a call first seen in progress
        completes the call's record without a second deal or pop-up.
        """
        _check_storable(event)
        for attempt in range(2):
            try:
                return await self._ingest(event)
            except (Duplicate, BoundMeanwhile):
                # The same call raced in from another process and won: the next pass sees it.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _ingest(self, event: CallEvent) -> IngestOutcome:
        if not 0 < len(event.provider) <= MAX_PROVIDER or not 0 < len(event.call_id) <= MAX_CALL_ID:
            raise InvalidInput(
                "call",
                event.call_id[:40],
                detail=f"provider 1-{MAX_PROVIDER} and call id 1-{MAX_CALL_ID} characters",
            )
        now = self.now()
        async with self.db.uow() as uow:
            if event.seal is not None and not await check_seal(
                uow, event.provider, event.call_id, event.seal, at=now
            ):
                raise BoundMeanwhile(event.provider, event.call_id)
            known = await uow.calls.find(event.provider, event.call_id)
            if known is not None and (known.is_final or not event.is_final):
                return IngestOutcome(event.call_id, known.deal_id, created=False, duplicate=True)
            answerer = await uow.users.by_extension(event.answered_by) if event.answered_by else None
            if known is not None:
                await self._complete(uow, known, event, answerer, now)
                await uow.commit()
                return IngestOutcome(event.call_id, known.deal_id, created=False, duplicate=False)
            result = await self._apply(uow, event, answerer, now)
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
            done = await close_the_loop(
                uow, event, answerer, call_id=call_id, now=now, actor=self._system(event)
            )
            await self._tell_owners(uow, event, answerer, result.deal, done, now)
            if not result.held:
                await self._notify(uow, event, result, answerer, call_id, now)
            await uow.commit()
        log.info(
            "call %s/%s from %s: %s %s, deal %s%s",
            event.provider,
            event.call_id,
            mask(event.caller),
            event.direction,
            event.status,
            deal_id,
            " (new)" if result.created else " (held back: call flood)" if result.held else "",
        )
        return IngestOutcome(event.call_id, deal_id, created=result.created, duplicate=False)

    async def _placed_by(self, uow: UnitOfWork, event: CallEvent) -> User | None:
        """Who placed an outbound call that did not connect (the extension the PBX names first)."""
        if event.direction is not CallDirection.OUTBOUND or not event.rang:
            return None
        return await uow.users.by_extension(event.rang[0])

    def _makes_deals(self, event: CallEvent) -> bool:
        if event.direction is not CallDirection.INBOUND or event.caller is None:
            return False
        return event.caller not in self.config.own_numbers and event.caller not in self.config.blocked_numbers

    async def _apply(
        self, uow: UnitOfWork, event: CallEvent, answerer: User | None, now: datetime
    ) -> _Result:
        customer = event.dialed if event.direction is CallDirection.OUTBOUND else event.caller
        if customer is None or customer in self.config.own_numbers:
            return _Result()
        caller = await uow.calls.caller(customer)
        deal = caller.open_deals[0] if caller.open_deals else None
        joined = _Result(deal, latest_task_due=caller.latest_open_task_due)
        if event.direction is CallDirection.OUTBOUND:
            return joined
        if not self._makes_deals(event):
            return _Result()
        if deal is not None:
            if deal.owner is None and answerer is not None and event.status is CallStatus.ANSWERED:
                joined.history.append(deal.reassign(answerer, at=now, actor=self._system(event)))
            return joined
        mode = self.config.calls_create_deals
        if event.status is CallStatus.ANSWERED and mode is not CreateDealsFrom.ALL:
            return _Result()
        if event.status is CallStatus.MISSED and mode is CreateDealsFrom.NONE:
            return _Result()
        if caller.contact is None and await self._holds_back(uow, event, now):
            return _Result(new_number=True, held=True)
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

    def _system(self, event: CallEvent) -> Actor:
        return Actor.system_because(f"call {event.provider}:{event.call_id}"[:100])

    async def _missed_call_owner(self, uow: UnitOfWork, event: CallEvent) -> User | None:
        """The seller whose extension rang first, else the next active seller in turn, else nobody."""
        for extension in event.rang:
            user = await uow.users.by_extension(extension)
            if user is not None and user.active and user.role is Role.SELLER:
                return user
        return await uow.users.next_in_rotation()

    async def _new_deal(
        self, uow: UnitOfWork, event: CallEvent, contact: Contact | None, owner: User | None, now: datetime
    ) -> _Result:
        """A deal for the caller in the inbox; its first history line is written with the call's."""
        assert event.caller is not None
        if contact is None:
            contact = await uow.contacts.add(name=None, phone=event.caller, company=None, at=now)
        pipeline = await default_pipeline(uow)
        source = Source.CALL if event.status is CallStatus.ANSWERED else Source.MISSED_CALL
        deal = Deal.start(
            pipeline=pipeline,
            title=pretty(event.caller),
            currency=self.config.default_currency,
            at=now,
            source=source,
            contact=contact,
            owner=owner,
        )
        await uow.deals.add(deal)
        # A new deal has no tasks yet.
        return _Result(deal, created=True, history=[deal.created_event(self._system(event))])

    async def _record_on_deal(
        self, uow: UnitOfWork, deal: Deal, result: _Result, event: CallEvent, call_id: int, now: datetime
    ) -> None:
        """Touch the deal, add the call to its history (with a call-back task if it was missed), save it."""
        deal.touch(now)
        result.history.append(
            DealEvent.new(
                deal,
                EventKind.CALL,
                now,
                self._system(event),
                call_id=call_id,
                direction=event.direction.value,
                status=event.status.value,
                duration_s=event.duration_s,
                answered_by=event.answered_by,
            )
        )
        latest_task_due, tasks_read = result.latest_task_due, result.tasks_read
        if event.status is CallStatus.MISSED and event.direction is CallDirection.INBOUND:
            open_tasks = [] if result.created else await uow.tasks.open_of_deal(deal.id)
            # One open call-back per deal is enough; the new call is in its history.
            result.call_back = next((t for t in open_tasks if t.kind is TaskKind.CALL_BACK), None)
            if result.call_back is None:
                result.call_back = await self._call_back_task(uow, deal, result, event, now)
                open_tasks.append(result.call_back)
            latest_task_due, tasks_read = max((t.due_at for t in open_tasks), default=None), True
        await uow.events.add(*result.history)
        if tasks_read:
            await uow.deals.save_knowing_tasks(deal, latest_open_task_due=latest_task_due)
        else:
            await uow.deals.save(deal)

    async def _call_back_task(
        self, uow: UnitOfWork, deal: Deal, result: _Result, event: CallEvent, now: datetime
    ) -> Task:
        assignee = deal.owner or await self._missed_call_owner(uow, event)
        task = Task(
            id=0,
            deal_id=deal.id,
            assignee_id=assignee.id if assignee else None,
            due_at=now + self.config.call_back_after,
            text="",  # what it is about is data (its kind, its number): each reader words it
            kind=TaskKind.CALL_BACK,
            created_at=now,
            phone=event.caller,
        )
        await uow.tasks.add(task)
        result.history.append(
            DealEvent.new(
                deal,
                EventKind.TASK_CREATED,
                now,
                self._system(event),
                task_id=task.id,
                text=task.text,
                due_at=task.due_at.isoformat(),
                task_kind=task.kind.value,
                phone=task.phone,
            )
        )
        return task

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
        result: _Result,
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


def _as_event(call: CallRecord) -> CallEvent:
    """A stored call as the event it came from (enough for the history line)."""
    return CallEvent(
        call_id=call.external_id,
        provider=call.provider,
        direction=call.direction,
        status=call.status,
        caller=call.caller,
        dialed=None,
        started_at=call.started_at,
        answered_by=call.answered_by_ext,
        ended_at=call.ended_at,
        duration_s=call.duration_s,
    )
