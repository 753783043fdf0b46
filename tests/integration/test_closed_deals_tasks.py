"""A won or lost deal leaves nothing to do: its open tasks are cancelled by the close, in its history;
reopening does not bring them back; and no list, reminder, plan or digest shows a task of a closed
deal — not even one that somehow stayed open (the queries ask for an open deal too)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.context import ChatSettings
from bot.core.notify import Notifier
from crm_core.domain.errors import DealClosed, InvalidInput
from crm_core.domain.history import EventKind
from crm_core.domain.notifications import NoteKind, decode_payload
from crm_core.domain.tasks import Task, TaskKind
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.integration.followup_support import DAY, HOUR, MINUTE, queued, tick_at, without_morning_plans
from tests.integration.support import Team, stored
from tests.integration.test_tasks_due import missed_call


@pytest.fixture
async def team(team: Team, crm: Crm) -> Team:
    """The team, its sellers' morning plans off: a "Due now" comes on its own, not in a plan at nine."""
    await without_morning_plans(crm, team.alice, team.bob, team.carol)
    return team


async def close(crm: Crm, team: Team, deal_id: int, how: str) -> None:
    if how == "won":
        await crm.deals.mark_won(deal_id=deal_id, actor=team.alice)
    else:
        await crm.deals.mark_lost(deal_id=deal_id, reason="Price", actor=team.alice)


@pytest.mark.parametrize("how", ["won", "lost"])
async def test_closing_a_deal_cancels_its_open_tasks_and_reopening_does_not_bring_them_back(
    crm: Crm, team: Team, clock: FixedClock, how: str
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order", stage="Commercial offer")
    now = clock.now()
    call = await crm.tasks.add(deal_id=deal.id, due_at=now + HOUR, text="Call Ivan", actor=team.alice)
    send = await crm.tasks.add(deal_id=deal.id, due_at=now + DAY, text="Send the offer", actor=team.alice)
    done = await crm.tasks.add(deal_id=deal.id, due_at=now + DAY, text="Done already", actor=team.alice)
    await crm.tasks.complete(task_id=done.id, actor=team.alice)
    clock.advance(2 * HOUR)
    await close(crm, team, deal.id, how)
    history = await crm.deals.history(deal_id=deal.id, actor=team.alice)
    assert [(e.kind, e.data.get("text"), e.at) for e in history[-3:]] == [
        (EventKind.WON if how == "won" else EventKind.LOST, None, clock.now()),
        (EventKind.TASK_CANCELLED, "Call Ivan", clock.now()),
        (EventKind.TASK_CANCELLED, "Send the offer", clock.now()),
    ]
    assert [e.data["task_id"] for e in history[-2:]] == [call.id, send.id]
    assert (await crm.deals.details(deal_id=deal.id, actor=team.alice)).next_task is None
    assert await crm.tasks.open_tasks(actor=team.alice) == []
    clock.advance(HOUR)
    reopened = await crm.deals.reopen(deal_id=deal.id, actor=team.alice)
    assert reopened.stage.name == "Commercial offer"
    assert await crm.tasks.open_tasks(actor=team.alice) == []
    assert (await crm.deals.details(deal_id=deal.id, actor=team.alice)).next_task is None
    for task_id in (call.id, send.id):
        with pytest.raises(InvalidInput, match="cancelled when its deal was closed"):
            await crm.tasks.complete(task_id=task_id, actor=team.alice)
        with pytest.raises(InvalidInput, match="cancelled when its deal was closed"):
            await crm.tasks.postpone(task_id=task_id, until=clock.now() + DAY, actor=team.alice)


async def test_no_task_is_planned_on_a_closed_deal(crm: Crm, team: Team, clock: FixedClock) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    await crm.deals.mark_won(deal_id=deal.id, actor=team.alice)
    before = await stored(crm, deal.id)
    with pytest.raises(DealClosed):
        await crm.tasks.add(deal_id=deal.id, due_at=clock.now() + DAY, text="Upsell", actor=team.alice)
    assert await stored(crm, deal.id) == before


async def test_a_due_now_queued_before_the_deal_was_won_is_dropped_not_sent(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    due = clock.now() + HOUR
    task = await crm.tasks.add(deal_id=deal.id, due_at=due, text="Call Ivan", actor=team.alice)
    await tick_at(crm, clock, due)
    [row] = await queued(crm, NoteKind.TASK_DUE)
    assert row["payload"] == {"task_id": task.id}
    notifier = Notifier(crm, ChatSettings())
    assert await notifier.render(
        team.alice, decode_payload(row["kind"], row["payload"])
    )  # "Due now" while it is open
    clock.advance(MINUTE)
    await crm.deals.mark_won(deal_id=deal.id, actor=team.alice)
    assert (
        await notifier.render(team.alice, decode_payload(row["kind"], row["payload"])) == []
    )  # the sender drops it
    assert (
        await notifier.render(team.alice, decode_payload(row["kind"], row["payload"] | {"repeat": True}))
        == []
    )


async def test_a_missed_calls_call_back_is_not_repeated_once_its_deal_is_lost(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    task = await missed_call(crm, team)
    await tick_at(crm, clock, task.due_at)
    assert [r["payload"] for r in await queued(crm, NoteKind.TASK_DUE)] == [{"task_id": task.id}]
    await crm.deals.mark_lost(deal_id=task.deal_id, reason="Not a fit", actor=team.alice)
    await tick_at(crm, clock, task.due_at + HOUR)  # the repeat would be due half an hour after
    assert [r["payload"] for r in await queued(crm, NoteKind.TASK_DUE)] == [{"task_id": task.id}]


async def test_a_task_left_open_on_a_closed_deal_is_shown_nowhere(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    """A task that stayed open on a closed deal (written past the service, as an older version could
    leave one) is still in no list, plan, digest or reminder: every query asks for an open deal."""
    deal = await crm.deals.create(actor=team.alice, title="Order")
    await crm.deals.mark_lost(deal_id=deal.id, reason="Price", actor=team.alice)
    now = clock.now()
    async with crm.db.uow() as uow:
        for kind in (TaskKind.CUSTOM, TaskKind.CALL_BACK):
            await uow.tasks.add(
                Task(0, deal.id, team.alice.id, now + MINUTE, "Left over", kind, now, team.alice.id)
            )
        await uow.commit()
    assert await crm.tasks.open_tasks(actor=team.alice) == []
    assert await crm.tasks.open_tasks(actor=team.boss, everyone=True) == []
    assert (await crm.deals.details(deal_id=deal.id, actor=team.alice)).next_task is None
    clock.advance(HOUR)
    assert (await crm.reports.morning_plan(actor=team.alice)).tasks == []
    digest = await crm.reports.digest(actor=team.boss, since=clock.now() - DAY, until=clock.now())
    assert digest.missed_calls == []
    async with crm.db.uow(write=False) as uow:
        assert await uow.tasks.due_between(now, now + DAY) == []
        left = await uow.tasks.get(1)
    assert left is not None and not left.is_open
    report = await tick_at(crm, clock, clock.now() + timedelta(hours=2))
    assert report.tasks_due == 0 and await queued(crm, NoteKind.TASK_DUE) == []
