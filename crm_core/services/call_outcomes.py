"""How an answered call ended: the seller's one tap, kept on the call and in the deal's history."""

from __future__ import annotations

from dataclasses import dataclass

from crm_core.domain.calls import CallOutcome, CallStatus
from crm_core.domain.deals import Deal
from crm_core.domain.errors import InvalidInput, NotFound, Why
from crm_core.domain.history import Actor, DealEvent, EventKind
from crm_core.domain.tasks import Task, TaskKind
from crm_core.domain.users import User
from crm_core.services.base import ServiceBase, require_active


@dataclass(frozen=True, slots=True)
class OutcomeRecorded:
    deal: Deal
    outcome: CallOutcome
    call_back: Task | None = None  # planned by "no answer" and "call later"


class CallOutcomeService(ServiceBase):
    async def record(self, *, call_id: int, outcome: CallOutcome, actor: User) -> OutcomeRecorded:
        """Keep how the call ended on the call and in its deal's history; "no answer" and "call later"
        plan a call-back. Only who took the call (or a boss) may say; a later tap replaces the outcome."""
        require_active(actor)
        now = self.now()
        async with self.db.uow() as uow:
            call = await uow.calls.get(call_id)
            if call is None or (not actor.is_boss and call.answered_by_id != actor.id):
                raise NotFound("call", call_id)
            if call.status is not CallStatus.ANSWERED:
                raise InvalidInput("call", call_id, Why.NOT_ANSWERED)
            if call.deal_id is None:
                raise InvalidInput("call", call_id, Why.NO_DEAL_YET)
            deal = await uow.deals.get_visible(call.deal_id, viewer=actor)
            await uow.calls.set_outcome(call.id, outcome, at=now)
            history = [
                DealEvent.new(
                    deal, EventKind.CALL_OUTCOME, now, Actor.of(actor), call_id=call.id, outcome=outcome.value
                )
            ]
            call_back = None
            after = outcome.calls_back_after
            if after is not None and not deal.is_closed and call.customer is not None:
                call_back = Task(
                    id=0,
                    deal_id=deal.id,
                    assignee_id=deal.owner_id or actor.id,
                    due_at=now + self.config.call_back_after + after,
                    text="",  # worded by each reader from its kind and number
                    kind=TaskKind.CALL_BACK,
                    created_at=now,
                    created_by_id=actor.id,
                    phone=call.customer,
                )
                await uow.tasks.add(call_back)
                history.append(
                    DealEvent.new(
                        deal,
                        EventKind.TASK_CREATED,
                        now,
                        Actor.of(actor),
                        task_id=call_back.id,
                        text=call_back.text,
                        due_at=call_back.due_at.isoformat(),
                        task_kind=call_back.kind.value,
                        phone=call_back.phone,
                    )
                )
            await uow.events.add(*history)
            deal.touch(now)
            await uow.deals.save(deal)
            await uow.commit()
        return OutcomeRecorded(deal, outcome, call_back)
