"""The missed-call loop: a call that reaches the customer does their call-back by itself; an outbound
call that does not connect is one more attempt on it."""

from __future__ import annotations

from datetime import timedelta

from crm_core.domain.history import EventKind
from crm_core.domain.tasks import TaskKind
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.integration.support import Team
from tests.integration.test_ingest_call import ANSWERED, CUSTOMER, MISSED, OFFICE, OUTBOUND, call

M = timedelta(minutes=1)


async def _call_back(crm: Crm, team: Team) -> int:
    """A missed call from the customer, rung at Alice's phone: her call-back task's id."""
    outcome = await crm.calls.ingest_call(call("m1", crm.clock.now(), status=MISSED))
    assert outcome.deal_id is not None
    tasks = await crm.tasks.open_tasks(actor=team.alice)
    assert [(t.kind, t.phone, t.attempts) for t in tasks] == [(TaskKind.CALL_BACK, CUSTOMER, 0)]
    return tasks[0].id


async def test_a_missed_call_answered_later_by_a_colleague_leaves_no_call_back_open(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    task_id = await _call_back(crm, team)
    clock.advance(20 * M)
    outcome = await crm.calls.ingest_call(call("a1", crm.clock.now(), answered_by="102"))
    assert await crm.tasks.open_tasks(actor=team.boss, everyone=True) == []
    task = await crm.tasks.get(task_id=task_id, actor=team.boss)
    assert task.done_at == crm.clock.now()
    assert outcome.deal_id is not None
    history = await crm.deals.history(deal_id=outcome.deal_id, actor=team.boss)
    done = [e for e in history if e.kind is EventKind.TASK_DONE]
    assert [(e.actor_id, e.data) for e in done] == [
        (
            team.bob.id,
            {
                "task_id": task_id,
                "text": "",
                "phone": CUSTOMER,
                "call_id": done[0].data["call_id"],
                "reached": "inbound",
                "reached_by": "Bob",
                "after_s": 20 * 60 + 5,  # from the missed call's start to the answer, 5 s into the call
            },
        )
    ]


async def test_calls_that_do_not_connect_are_attempts_and_the_one_that_connects_does_the_call_back(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    task_id = await _call_back(crm, team)
    for n in (1, 2):
        clock.advance(10 * M)
        attempt = call(
            f"o{n}",
            crm.clock.now(),
            direction=OUTBOUND,
            status=MISSED,
            caller=OFFICE,
            dialed=CUSTOMER,
            rang=(),
        )
        await crm.calls.ingest_call(attempt)
        await crm.calls.ingest_call(attempt)  # a repeated event counts once
    task = await crm.tasks.get(task_id=task_id, actor=team.alice)
    assert (task.is_open, task.attempts) == (True, 2)

    clock.advance(10 * M)
    reached = call("o3", crm.clock.now(), direction=OUTBOUND, status=ANSWERED, caller=OFFICE, dialed=CUSTOMER)
    await crm.calls.ingest_call(reached)
    task = await crm.tasks.get(task_id=task_id, actor=team.alice)
    assert (task.is_open, task.done_at, task.attempts) == (False, crm.clock.now(), 2)
    history = await crm.deals.history(deal_id=task.deal_id, actor=team.alice)
    done = next(e for e in history if e.kind is EventKind.TASK_DONE)
    assert (done.actor_id, done.data["reached"], done.data["after_s"], done.data["attempts"]) == (
        team.alice.id,
        "outbound",
        30 * 60 + 5,
        2,
    )


async def test_a_call_in_progress_does_the_call_back_once_and_its_end_changes_nothing_more(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    task_id = await _call_back(crm, team)
    clock.advance(5 * M)
    await crm.calls.ingest_call(call("a1", crm.clock.now(), final=False))
    clock.advance(M)
    await crm.calls.ingest_call(call("a1", crm.clock.now() - M))
    task = await crm.tasks.get(task_id=task_id, actor=team.alice)
    history = await crm.deals.history(deal_id=task.deal_id, actor=team.alice)
    assert task.done_at == crm.clock.now() - M
    assert len([e for e in history if e.kind is EventKind.TASK_DONE]) == 1


async def test_a_call_to_another_number_leaves_the_call_back_open(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    task_id = await _call_back(crm, team)
    clock.advance(M)
    await crm.calls.ingest_call(call("x1", crm.clock.now(), caller="+74957777777"))
    assert (await crm.tasks.get(task_id=task_id, actor=team.alice)).is_open
