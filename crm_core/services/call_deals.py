"""What a call writes on its deal: a new deal for a new caller, the call's history line, a call-back task.

The pop-up's buttons (``CallService``) and the calls a PBX reports (``CallIngest``) both write it so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from crm_core.domain.contacts import Contact
from crm_core.domain.deals import Deal, Source
from crm_core.domain.funnel import Pipeline
from crm_core.domain.history import Actor, DealEvent, EventKind
from crm_core.domain.phones import pretty
from crm_core.domain.tasks import Task, TaskKind
from crm_core.domain.users import Role, User
from crm_core.services.base import ServiceBase, default_pipeline
from crm_core.services.unit_of_work import UnitOfWork


@dataclass(slots=True)
class CallResult:
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


class CallDeals(ServiceBase):
    """A call on its deal, written with the deal in one go (``CallResult``)."""

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
    ) -> CallResult:
        """A deal for the caller in the inbox, not stored yet: ``_store_new_deal`` writes it once, with
        the call on it."""
        assert event.caller is not None
        if contact is None:
            contact = await uow.contacts.add(name=None, phone=event.caller, company=None, at=now)
        pipeline = await pipeline_for_call(uow, event)
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
        return CallResult(deal, created=True)

    async def _store_new_deal(
        self, uow: UnitOfWork, result: CallResult, event: CallEvent, now: datetime
    ) -> Deal:
        """Write the call's new deal as the call leaves it (touched; stale when its call-back is due, if
        the call makes one), in one INSERT; its first history line goes with the call's."""
        deal = result.deal
        assert deal is not None and result.created and not deal.id
        deal.touch(now)
        await uow.deals.add_saved(deal, latest_open_task_due=self._call_back_due(event, now))
        result.history.insert(0, deal.created_event(self._system(event)))
        return deal

    def _call_back_due(self, event: CallEvent, now: datetime) -> datetime | None:
        """When the call-back task a call makes is due; ``None`` when the call makes none (a call-back
        is made for a missed inbound call on a deal without an open one)."""
        if event.status is CallStatus.MISSED and event.direction is CallDirection.INBOUND:
            return now + self.config.call_back_after
        return None

    async def _record_on_deal(
        self, uow: UnitOfWork, deal: Deal, result: CallResult, event: CallEvent, call_id: int, now: datetime
    ) -> None:
        """Touch the deal, add the call to its history (with a call-back task if it was missed), save it.

        A new deal (``result.created``) was stored by ``_store_new_deal`` as this leaves it: not saved again.
        """
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
        if self._call_back_due(event, now) is not None:
            open_tasks = [] if result.created else await uow.tasks.open_of_deal(deal.id)
            # One open call-back per deal is enough; the new call is in its history.
            result.call_back = next((t for t in open_tasks if t.kind is TaskKind.CALL_BACK), None)
            if result.call_back is None:
                result.call_back = await self._call_back_task(uow, deal, result, event, now)
                open_tasks.append(result.call_back)
            latest_task_due, tasks_read = max((t.due_at for t in open_tasks), default=None), True
        await uow.events.add(*result.history)
        if result.created:
            return
        if tasks_read:
            await uow.deals.save_knowing_tasks(deal, latest_open_task_due=latest_task_due)
        else:
            await uow.deals.save(deal)

    async def _call_back_task(
        self, uow: UnitOfWork, deal: Deal, result: CallResult, event: CallEvent, now: datetime
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


async def pipeline_for_call(uow: UnitOfWork, event: CallEvent) -> Pipeline:
    """Where a call from a new number opens its deal: the pipeline listing the number it came in on
    (one lookup by the DID), else the default pipeline."""
    pipeline_id = await uow.pipelines.for_did(event.did) if event.did is not None else None
    pipeline = await uow.pipelines.get(pipeline_id) if pipeline_id is not None else None
    return pipeline if pipeline is not None else await default_pipeline(uow)


async def joined_deal(uow: UnitOfWork, contact: Contact | None) -> Deal | None:
    """The deal a call or a web-form lead from a known customer joins: their first open deal."""
    if contact is None:
        return None
    open_deals = await uow.deals.open_deals_of_contact(contact.id)
    return open_deals[0] if open_deals else None
