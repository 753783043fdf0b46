"""Tasks on deals, and which deals are stale: past their stage's follow-up since their last activity,
unless snoozed or waiting on a task due in the future."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from crm_core.domain.deals import Deal
from crm_core.domain.errors import InvalidInput
from crm_core.domain.history import EventKind
from crm_core.domain.horizon import MAX_AHEAD
from crm_core.domain.tasks import TaskKind
from crm_core.ports import FixedClock
from crm_core.services import Crm
from crm_core.services.funnel import funnel_spec_from_document
from tests.integration.support import Team, stored

H = timedelta(hours=1)


async def stale_titles(crm: Crm, team: Team) -> list[str]:
    return [d.title for d in await crm.deals.stale(actor=team.boss)]


async def a_deal_in_unsorted(crm: Crm, team: Team) -> Deal:
    """A deal in Unsorted, whose follow-up is 2 hours."""
    return await crm.deals.create(actor=team.alice, title="Call me")


async def test_a_task_goes_to_the_deals_owner_and_into_its_history(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    due = clock.now() + 3 * H
    task = await crm.tasks.add(deal_id=deal.id, due_at=due, text="  Send the offer ", actor=team.boss)
    assert (task.assignee_id, task.due_at, task.text, task.kind, task.done_at) == (
        team.alice.id,
        due,
        "Send the offer",
        TaskKind.CUSTOM,
        None,
    )
    assert (task.assignee_name, task.deal_title) == ("Alice", "Order")
    assert [t.id for t in await crm.tasks.open_tasks(actor=team.alice)] == [task.id]
    last = (await crm.deals.history(deal_id=deal.id, actor=team.alice))[-1]
    assert (last.kind, last.actor_name, last.data["text"], last.data["due_at"]) == (
        EventKind.TASK_CREATED,
        "Boss",
        "Send the offer",
        due.isoformat(),
    )


async def test_a_boss_may_give_a_task_to_another_seller(crm: Crm, team: Team, clock: FixedClock) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    task = await crm.tasks.add(
        deal_id=deal.id,
        due_at=clock.now() + H,
        text="Help Alice",
        actor=team.boss,
        assignee_telegram_id=team.bob.telegram_id,
    )
    assert [t.id for t in await crm.tasks.open_tasks(actor=team.bob)] == [task.id]


@pytest.mark.parametrize(
    ("due_in", "text"),
    [
        (-2 * timedelta(minutes=1), "Call"),  # in the past (a minute of slack is allowed)
        (H, ""),
        (H, "x" * 501),
    ],
)
async def test_a_task_due_in_the_past_or_without_text_is_refused_and_nothing_changes(
    crm: Crm, team: Team, clock: FixedClock, due_in: timedelta, text: str
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    before = await stored(crm, deal.id)
    with pytest.raises(InvalidInput):
        await crm.tasks.add(deal_id=deal.id, due_at=clock.now() + due_in, text=text, actor=team.alice)
    assert await stored(crm, deal.id) == before


async def test_a_task_snooze_or_postponement_past_three_years_is_refused_and_nothing_changes(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    task = await crm.tasks.add(deal_id=deal.id, due_at=clock.now() + H, text="Call", actor=team.alice)
    before = await stored(crm, deal.id)
    year_9999 = datetime(9999, 12, 31, tzinfo=UTC)
    plans: list[Callable[[], Awaitable[object]]] = [
        lambda: crm.tasks.add(deal_id=deal.id, due_at=year_9999, text="Call", actor=team.alice),
        lambda: crm.tasks.postpone(task_id=task.id, until=year_9999, actor=team.alice),
        lambda: crm.deals.snooze(deal_id=deal.id, until=year_9999, actor=team.alice),
        lambda: crm.deals.snooze(deal_id=deal.id, until=clock.now() + MAX_AHEAD + H, actor=team.alice),
    ]
    for plan in plans:
        with pytest.raises(InvalidInput, match="too far ahead"):
            await plan()
    assert await stored(crm, deal.id) == before
    snoozed = await crm.deals.snooze(deal_id=deal.id, until=clock.now() + MAX_AHEAD, actor=team.alice)
    assert snoozed.snoozed_until == clock.now() + MAX_AHEAD


async def test_a_due_time_without_a_time_zone_is_refused(crm: Crm, team: Team, clock: FixedClock) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    naive = (clock.now() + H).replace(tzinfo=None)
    with pytest.raises(InvalidInput):
        await crm.tasks.add(deal_id=deal.id, due_at=naive, text="Call", actor=team.alice)


async def test_completing_a_task_counts_as_activity_and_cannot_be_done_twice(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    task = await crm.tasks.add(deal_id=deal.id, due_at=clock.now() + H, text="Call", actor=team.alice)
    clock.advance(30 * timedelta(minutes=1))
    done = await crm.tasks.complete(task_id=task.id, actor=team.alice)
    assert done.done_at == clock.now()
    assert await crm.tasks.open_tasks(actor=team.alice) == []
    assert (await crm.deals.get(deal_id=deal.id, actor=team.alice)).last_activity_at == clock.now()
    kinds = [e.kind for e in await crm.deals.history(deal_id=deal.id, actor=team.alice)]
    assert kinds == [EventKind.CREATED, EventKind.TASK_CREATED, EventKind.TASK_DONE]
    before = await stored(crm, deal.id)
    with pytest.raises(InvalidInput):
        await crm.tasks.complete(task_id=task.id, actor=team.alice)
    with pytest.raises(InvalidInput):
        await crm.tasks.postpone(task_id=task.id, until=clock.now() + H, actor=team.alice)
    assert await stored(crm, deal.id) == before


async def test_open_tasks_are_listed_by_due_time(crm: Crm, team: Team, clock: FixedClock) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    later = await crm.tasks.add(deal_id=deal.id, due_at=clock.now() + 5 * H, text="Later", actor=team.alice)
    sooner = await crm.tasks.add(deal_id=deal.id, due_at=clock.now() + H, text="Sooner", actor=team.alice)
    assert [t.id for t in await crm.tasks.open_tasks(actor=team.alice)] == [sooner.id, later.id]
    await crm.tasks.postpone(task_id=sooner.id, until=clock.now() + 9 * H, actor=team.alice)
    assert [t.text for t in await crm.tasks.open_tasks(actor=team.alice)] == ["Later", "Sooner"]
    with pytest.raises(InvalidInput):
        await crm.tasks.postpone(task_id=later.id, until=clock.now(), actor=team.alice)


async def test_a_deal_goes_stale_when_its_stage_follow_up_passes_without_activity(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await a_deal_in_unsorted(crm, team)
    clock.advance(2 * H - timedelta(minutes=1))
    assert await stale_titles(crm, team) == []
    clock.advance(timedelta(minutes=1))  # exactly 2 hours: due now
    assert await stale_titles(crm, team) == ["Call me"]
    assert (await crm.deals.get(deal_id=1, actor=team.alice)).is_stale(clock.now())


async def test_activity_on_a_deal_restarts_its_follow_up(crm: Crm, team: Team, clock: FixedClock) -> None:
    deal = await a_deal_in_unsorted(crm, team)
    clock.advance(3 * H)
    assert await stale_titles(crm, team) == ["Call me"]
    await crm.deals.add_note(deal_id=deal.id, text="Called, busy", actor=team.alice)
    assert await stale_titles(crm, team) == []
    clock.advance(2 * H)
    assert await stale_titles(crm, team) == ["Call me"]
    await crm.deals.move(deal_id=deal.id, to_stage="Opportunity", actor=team.alice)  # 3 days there
    clock.advance(3 * 24 * H - timedelta(minutes=1))
    assert await stale_titles(crm, team) == []
    clock.advance(timedelta(minutes=1))
    assert await stale_titles(crm, team) == ["Call me"]


async def test_a_snoozed_deal_is_not_stale_until_the_snooze_ends(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await a_deal_in_unsorted(crm, team)
    clock.advance(3 * H)
    await crm.deals.snooze(deal_id=deal.id, until=clock.now() + 24 * H, actor=team.alice)
    clock.advance(23 * H)
    assert await stale_titles(crm, team) == []
    clock.advance(H)
    assert await stale_titles(crm, team) == ["Call me"]


async def test_a_task_due_in_the_future_keeps_a_deal_from_being_stale_but_an_overdue_one_does_not(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await a_deal_in_unsorted(crm, team)
    task = await crm.tasks.add(deal_id=deal.id, due_at=clock.now() + 5 * H, text="Call", actor=team.alice)
    clock.advance(4 * H)  # the follow-up (2h) has passed, the task is still ahead
    assert await stale_titles(crm, team) == []
    clock.advance(H)  # the task is due now, and still open: overdue tasks do not excuse a deal
    assert await stale_titles(crm, team) == ["Call me"]
    await crm.tasks.postpone(task_id=task.id, until=clock.now() + H, actor=team.alice)
    assert await stale_titles(crm, team) == []
    clock.advance(30 * timedelta(minutes=1))
    await crm.tasks.complete(task_id=task.id, actor=team.alice)  # activity: 2 more hours
    clock.advance(2 * H - timedelta(minutes=1))
    assert await stale_titles(crm, team) == []
    clock.advance(timedelta(minutes=1))
    assert await stale_titles(crm, team) == ["Call me"]


async def test_closed_deals_and_stages_without_a_follow_up_never_go_stale(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    won = await crm.deals.create(actor=team.alice, title="Won")
    await crm.deals.mark_won(deal_id=won.id, actor=team.alice)
    lost = await crm.deals.create(actor=team.alice, title="Lost")
    await crm.deals.mark_lost(deal_id=lost.id, reason="Price", actor=team.alice)
    document = await crm.pipelines.document()
    document["stages"][1]["follow_up"] = None  # Opportunity: no follow-up
    await crm.pipelines.apply(funnel_spec_from_document(document), actor=team.boss)
    await crm.deals.create(actor=team.alice, title="Patient", stage="Opportunity")
    clock.advance(365 * 24 * H)
    assert await stale_titles(crm, team) == []


async def test_stale_deals_come_longest_overdue_first_and_a_seller_sees_only_theirs(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await crm.deals.create(
        actor=team.bob, title="Bob's, in Opportunity", stage="Opportunity"
    )  # due in 3 days
    clock.advance(H)
    await crm.deals.create(actor=team.alice, title="Alice's, in Unsorted")  # due in 2 hours
    clock.advance(4 * 24 * H)
    assert await stale_titles(crm, team) == ["Alice's, in Unsorted", "Bob's, in Opportunity"]
    assert [d.title for d in await crm.deals.stale(actor=team.bob)] == ["Bob's, in Opportunity"]
    assert [d.title for d in await crm.deals.stale(actor=team.boss, limit=1)] == ["Alice's, in Unsorted"]


async def test_a_shorter_follow_up_in_the_funnel_makes_waiting_deals_stale_sooner(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await crm.deals.create(actor=team.alice, title="Waiting", stage="Opportunity")  # 3 days
    clock.advance(2 * 24 * H)
    assert await stale_titles(crm, team) == []
    document = await crm.pipelines.document()
    document["stages"][1]["follow_up"] = "1d"
    await crm.pipelines.apply(funnel_spec_from_document(document), actor=team.boss)
    assert await stale_titles(crm, team) == ["Waiting"]
