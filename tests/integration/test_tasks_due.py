"""Due tasks: a task the user set is announced when due, at any hour; a call-back the system planned
waits for working hours and is repeated once when still open half an hour later; postponing re-arms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.context import ChatSettings
from bot.core.notify import Notifier
from bot.core.views import View
from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from crm_core.domain.notifications import NoteKind, decode_payload
from crm_core.domain.tasks import Task, TaskKind
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.integration.followup_support import (
    DAY,
    HOUR,
    MINUTE,
    queued,
    tick_at,
    tick_until,
    without_morning_plans,
)
from tests.integration.support import Team

FRIDAY_EVENING = datetime(2026, 3, 6, 18, 50, tzinfo=UTC)
MONDAY_9AM = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


@pytest.fixture
async def team(team: Team, crm: Crm) -> Team:
    """The team, its sellers' morning plans off: each notice comes on its own, not in a plan at nine."""
    await without_morning_plans(crm, team.alice, team.bob, team.carol)
    return team


async def notices(crm: Crm) -> list[tuple[int, bool]]:
    """The TASK_DUE notifications queued: (task id, whether it is the repeat)."""
    return [
        (row["payload"]["task_id"], bool(row["payload"].get("repeat")))
        for row in await queued(crm, NoteKind.TASK_DUE)
    ]


async def missed_call(crm: Crm, team: Team, call_id: str = "m1") -> Task:
    """A missed call on Alice's extension: the system plans her a call-back 15 minutes later."""
    at = crm.clock.now()
    await crm.calls.ingest_call(
        CallEvent(
            call_id=call_id,
            provider="asterisk",
            direction=CallDirection.INBOUND,
            status=CallStatus.MISSED,
            caller="+74951234567",
            dialed="+74950000000",
            started_at=at,
            rang=("101",),
            ended_at=at + timedelta(seconds=30),
        )
    )
    [task] = await crm.tasks.open_tasks(actor=team.alice)
    assert (task.kind, task.due_at) == (TaskKind.CALL_BACK, at + 15 * MINUTE)
    return task


async def test_a_task_the_user_set_is_announced_when_due_even_at_night_and_only_once(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    clock.current = FRIDAY_EVENING
    deal = await crm.deals.create(actor=team.alice, title="Order")
    due = datetime(2026, 3, 7, 3, 0, tzinfo=UTC)  # Saturday, 03:00
    task = await crm.tasks.add(deal_id=deal.id, due_at=due, text="Call Tokyo", actor=team.alice)
    await tick_until(crm, clock, due - MINUTE, every=HOUR - MINUTE)
    assert await notices(crm) == []
    report = await tick_at(crm, clock, due)
    assert report.tasks_due == 1
    [row] = await queued(crm, NoteKind.TASK_DUE)
    assert (row["recipient_id"], row["payload"], row["not_before"]) == (
        team.alice.id,
        {"task_id": task.id},
        due,
    )
    await tick_until(crm, clock, due + DAY, every=2 * HOUR)
    assert await notices(crm) == [(task.id, False)]


async def test_a_call_back_the_system_planned_after_hours_waits_for_monday_morning(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    clock.current = FRIDAY_EVENING  # the call-back is due at 19:05, after working hours
    task = await missed_call(crm, team)
    await tick_until(crm, clock, MONDAY_9AM - MINUTE, every=2 * HOUR - MINUTE)
    assert await notices(crm) == []
    await tick_at(crm, clock, MONDAY_9AM)
    assert await notices(crm) == [(task.id, False)]


async def test_a_call_back_still_open_half_an_hour_after_its_notice_is_repeated_exactly_once(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    clock.advance(HOUR)  # Monday 10:00
    task = await missed_call(crm, team)
    await tick_at(crm, clock, task.due_at)  # 10:15
    await tick_at(crm, clock, task.due_at + 29 * MINUTE)
    assert await notices(crm) == [(task.id, False)]
    report = await tick_at(crm, clock, task.due_at + 30 * MINUTE)
    assert report.repeats == 1
    await tick_until(crm, clock, clock.now() + 3 * HOUR, every=10 * MINUTE)
    assert await notices(crm) == [(task.id, False), (task.id, True)]
    repeat = (await queued(crm, NoteKind.TASK_DUE))[-1]
    [message] = await Notifier(crm, ChatSettings()).render(
        team.alice, decode_payload(repeat["kind"], repeat["payload"])
    )
    assert isinstance(message, View) and "Still to do:" in message.html and "Call back" in message.html


async def test_a_call_back_done_in_time_is_not_repeated(crm: Crm, team: Team, clock: FixedClock) -> None:
    clock.advance(HOUR)
    task = await missed_call(crm, team)
    await tick_at(crm, clock, task.due_at)
    clock.advance(10 * MINUTE)
    await crm.tasks.complete(task_id=task.id, actor=team.alice)
    await tick_until(crm, clock, clock.now() + 2 * HOUR, every=10 * MINUTE)
    assert await notices(crm) == [(task.id, False)]


async def test_a_call_back_missed_at_the_end_of_the_day_is_repeated_next_working_morning(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    clock.current = datetime(2026, 3, 2, 18, 30, tzinfo=UTC)  # Monday, due 18:45, repeat due 19:15
    task = await missed_call(crm, team)
    await tick_until(crm, clock, datetime(2026, 3, 3, 8, 59, tzinfo=UTC), every=15 * MINUTE)
    assert await notices(crm) == [(task.id, False)]
    await tick_at(crm, clock, datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    assert await notices(crm) == [(task.id, False), (task.id, True)]


async def test_postponing_a_task_re_arms_its_notice(crm: Crm, team: Team, clock: FixedClock) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    task = await crm.tasks.add(deal_id=deal.id, due_at=clock.now() + HOUR, text="Send", actor=team.alice)
    await tick_at(crm, clock, clock.now() + HOUR)  # 10:00: due
    clock.advance(10 * MINUTE)
    await crm.tasks.postpone(task_id=task.id, until=clock.now() + 2 * HOUR, actor=team.alice)
    await tick_until(crm, clock, clock.now() + 2 * HOUR - MINUTE, every=20 * MINUTE)
    assert await notices(crm) == [(task.id, False)]
    await tick_at(crm, clock, datetime(2026, 3, 2, 12, 10, tzinfo=UTC))
    assert await notices(crm) == [(task.id, False), (task.id, False)]


async def test_postponing_a_call_back_re_arms_both_its_notice_and_its_repeat(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    clock.advance(HOUR)
    task = await missed_call(crm, team)
    await tick_until(crm, clock, task.due_at + 30 * MINUTE, every=15 * MINUTE)
    assert await notices(crm) == [(task.id, False), (task.id, True)]
    await crm.tasks.postpone(task_id=task.id, until=clock.now() + HOUR, actor=team.alice)
    await tick_until(crm, clock, clock.now() + 2 * HOUR, every=15 * MINUTE)
    assert await notices(crm) == [(task.id, False), (task.id, True)] * 2


async def test_a_task_done_before_its_notice_goes_out_is_not_shown(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    task = await crm.tasks.add(deal_id=deal.id, due_at=clock.now() + HOUR, text="Send", actor=team.alice)
    await tick_at(crm, clock, clock.now() + HOUR)
    [row] = await queued(crm, NoteKind.TASK_DUE)
    notifier = Notifier(crm, ChatSettings())
    [message] = await notifier.render(team.alice, decode_payload(row["kind"], row["payload"]))
    assert isinstance(message, View) and "Due now:" in message.html and "Send" in message.html
    await crm.tasks.complete(task_id=task.id, actor=team.alice)
    assert await notifier.render(team.alice, decode_payload(row["kind"], row["payload"])) == []
