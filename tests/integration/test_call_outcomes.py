"""How an answered call ended: kept on the call and in the history, said only by who took it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_core.domain.calls import CallOutcome
from crm_core.domain.errors import InvalidInput, NotFound
from crm_core.domain.history import EventKind
from crm_core.ports import FixedClock
from crm_core.reports.models import Period
from crm_core.services import Crm
from tests.integration.support import Team
from tests.integration.test_ingest_call import CUSTOMER, MISSED, call


async def _answered_by_alice(crm: Crm) -> tuple[int, int]:
    outcome = await crm.calls.ingest_call(call("a1", crm.clock.now()))
    assert outcome.deal_id is not None
    async with crm.db.uow(write=False) as uow:
        (record,) = await uow.calls.of_deal(outcome.deal_id)
    return record.id, outcome.deal_id


async def test_no_answer_is_kept_on_the_call_and_plans_a_call_back(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    call_id, deal_id = await _answered_by_alice(crm)
    period = Period(clock.now() - timedelta(hours=1), clock.now() + timedelta(hours=1))
    assert (await crm.reports.calls(actor=team.boss, period=period)).team.without_outcome == 1
    done = await crm.call_outcomes.record(call_id=call_id, outcome=CallOutcome.NO_ANSWER, actor=team.alice)
    assert done.call_back is not None
    assert (done.call_back.phone, done.call_back.due_at) == (CUSTOMER, clock.now() + timedelta(minutes=15))
    assert (await crm.reports.calls(actor=team.boss, period=period)).team.without_outcome == 0
    history = await crm.deals.history(deal_id=deal_id, actor=team.alice)
    assert [(e.kind, e.actor_id, e.data) for e in history[-2:]] == [
        (EventKind.CALL_OUTCOME, team.alice.id, {"call_id": call_id, "outcome": "no_answer"}),
        (
            EventKind.TASK_CREATED,
            team.alice.id,
            {
                "task_id": done.call_back.id,
                "text": "",
                "due_at": done.call_back.due_at.isoformat(),
                "task_kind": "call_back",
                "phone": CUSTOMER,
            },
        ),
    ]


async def test_only_who_took_the_call_or_a_boss_says_how_it_went(crm: Crm, team: Team) -> None:
    call_id, _ = await _answered_by_alice(crm)
    with pytest.raises(NotFound):
        await crm.call_outcomes.record(call_id=call_id, outcome=CallOutcome.TALKED, actor=team.bob)
    done = await crm.call_outcomes.record(call_id=call_id, outcome=CallOutcome.TALKED, actor=team.boss)
    assert done.call_back is None
    missed = await crm.calls.ingest_call(call("m1", crm.clock.now(), caller="+74957777777", status=MISSED))
    assert missed.deal_id is not None
    async with crm.db.uow(write=False) as uow:
        (record,) = await uow.calls.of_deal(missed.deal_id)
    with pytest.raises(InvalidInput):
        await crm.call_outcomes.record(call_id=record.id, outcome=CallOutcome.TALKED, actor=team.boss)
