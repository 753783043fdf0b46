"""Stage reminders and escalations: one reminder per stale period, at a working hour of the seller's;
a snooze, a future task or any activity defers it; the bosses hear of a deal still stale after it, once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.context import ChatSettings
from bot.core.notify import Notifier
from bot.core.views import View
from crm_core.domain.deals import Deal
from crm_core.domain.history import EventKind
from crm_core.domain.notifications import NoteKind, decode_payload
from crm_core.domain.users import Role
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.integration.followup_support import (
    DAY,
    HOUR,
    MINUTE,
    queued,
    recipients,
    tick_at,
    tick_until,
    without_morning_plans,
)
from tests.integration.support import Team

FRIDAY_6PM_MOSCOW = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
MONDAY_9AM_MOSCOW = datetime(2026, 3, 9, 6, 0, tzinfo=UTC)


@pytest.fixture
async def team(team: Team, crm: Crm) -> Team:
    """The team, its sellers' morning plans off: each notice comes on its own, not in a plan at nine."""
    await without_morning_plans(crm, team.alice, team.bob, team.carol)
    return team


async def reminded_deal_ids(crm: Crm) -> list[list[int]]:
    return [row["payload"]["deal_ids"] for row in await queued(crm, NoteKind.STALE_REMINDER)]


async def test_a_deal_gone_stale_on_friday_evening_is_reminded_once_on_monday_at_nine_local_time(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    ivan = await crm.users.add(telegram_id=301, name="Ivan", role=Role.SELLER, timezone="Europe/Moscow")
    await without_morning_plans(crm, ivan)
    clock.current = FRIDAY_6PM_MOSCOW
    deal = await crm.deals.create(actor=ivan, title="Late lead")  # Unsorted: stale two hours later
    await tick_until(crm, clock, FRIDAY_6PM_MOSCOW + 3 * HOUR, every=15 * MINUTE)  # stale at 20:00
    await tick_until(crm, clock, MONDAY_9AM_MOSCOW - 3 * HOUR, every=3 * HOUR)  # the weekend
    await tick_until(crm, clock, MONDAY_9AM_MOSCOW - MINUTE, every=HOUR - 19 * MINUTE)  # ..., 08:59
    assert await reminded_deal_ids(crm) == []
    assert [d.id for d in await crm.deals.stale(actor=ivan)] == [deal.id]  # stale all weekend, though
    report = await tick_at(crm, clock, MONDAY_9AM_MOSCOW)
    assert (report.reminders, report.reminded_deals) == (1, 1)
    [row] = await queued(crm, NoteKind.STALE_REMINDER)
    assert (row["recipient_id"], row["payload"], row["not_before"]) == (
        ivan.id,
        {"deal_ids": [deal.id]},
        MONDAY_9AM_MOSCOW,
    )
    await tick_until(crm, clock, MONDAY_9AM_MOSCOW + 2 * DAY, every=2 * HOUR)
    assert await reminded_deal_ids(crm) == [[deal.id]]


async def test_a_stale_deal_waits_for_working_hours_in_its_sellers_time_zone_not_the_servers(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    ivan = await crm.users.add(telegram_id=301, name="Ivan", role=Role.SELLER, timezone="Asia/Vladivostok")
    await without_morning_plans(crm, ivan)
    clock.current = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 16:00 in Vladivostok, 06:00 UTC
    await crm.deals.create(actor=ivan, title="Far east")
    await crm.deals.create(actor=team.alice, title="Near west")
    await tick_until(crm, clock, datetime(2026, 3, 2, 8, 59, tzinfo=UTC), every=MINUTE * 59)
    # 08:00 UTC is 18:00 in Vladivostok: Ivan is at work, Alice (UTC) is not yet
    assert recipients(await queued(crm, NoteKind.STALE_REMINDER)) == [ivan.id]
    await tick_at(crm, clock, datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    assert recipients(await queued(crm, NoteKind.STALE_REMINDER)) == [ivan.id, team.alice.id]


async def test_deals_of_one_seller_going_stale_together_make_one_notification_listing_them_all(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    titles = ["Order A", "Order B", "Order C"]
    mine = [await crm.deals.create(actor=team.alice, title=t) for t in titles]
    bobs = await crm.deals.create(actor=team.bob, title="Bob's order")
    report = await tick_at(crm, clock, clock.now() + 2 * HOUR)
    assert (report.reminders, report.reminded_deals) == (2, 4)
    rows = await queued(crm, NoteKind.STALE_REMINDER)
    assert [(r["recipient_id"], r["payload"]["deal_ids"]) for r in rows] == [
        (team.alice.id, [d.id for d in mine]),
        (team.bob.id, [bobs.id]),
    ]
    [message] = await Notifier(crm, ChatSettings()).render(
        team.alice, decode_payload(rows[0]["kind"], rows[0]["payload"])
    )
    assert isinstance(message, View)
    assert "3 deals need a follow-up" in message.html
    assert all(t in message.html for t in titles) and "Bob" not in message.html
    labels = [b.text.replace("\u2068", "").replace("\u2069", "") for row in message.buttons for b in row]
    assert labels == [f"⏳ Order {x}" for x in "ABC"]  # titles read without their direction isolates
    await tick_until(crm, clock, clock.now() + DAY, every=2 * HOUR)
    assert len(await queued(crm, NoteKind.STALE_REMINDER)) == 2


async def test_a_deal_handled_after_the_tick_but_before_delivery_drops_out_of_the_reminder(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    first = await crm.deals.create(actor=team.alice, title="Handled meanwhile")
    second = await crm.deals.create(actor=team.alice, title="Still waiting")
    await tick_at(crm, clock, clock.now() + 2 * HOUR)
    [row] = await queued(crm, NoteKind.STALE_REMINDER)
    notifier = Notifier(crm, ChatSettings())
    clock.advance(10 * MINUTE)  # Telegram was slow; Alice called the first customer meanwhile
    await crm.deals.add_note(deal_id=first.id, text="Called", actor=team.alice)
    [card] = await notifier.render(team.alice, decode_payload(row["kind"], row["payload"]))
    assert isinstance(card, View) and "Still waiting" in card.html and "Handled meanwhile" not in card.html
    await crm.deals.snooze(deal_id=second.id, until=clock.now() + DAY, actor=team.alice)
    assert await notifier.render(team.alice, decode_payload(row["kind"], row["payload"])) == []


async def test_a_closed_deal_or_a_deactivated_sellers_deal_is_never_reminded(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    won = await crm.deals.create(actor=team.alice, title="Won already")
    await crm.deals.mark_won(deal_id=won.id, actor=team.alice)
    lost = await crm.deals.create(actor=team.alice, title="Lost already")
    await crm.deals.mark_lost(deal_id=lost.id, reason="Too expensive", actor=team.alice)
    await crm.deals.create(actor=team.carol, title="Carol's")
    await crm.users.deactivate(telegram_id=team.carol.telegram_id)  # her deal goes to nobody
    await tick_until(crm, clock, clock.now() + 3 * HOUR)
    assert await reminded_deal_ids(crm) == []


# -- what defers a reminder ---------------------------------------------------------------------


async def test_a_snoozed_deal_is_not_reminded_until_the_snooze_ends_then_once_more(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    await tick_until(crm, clock, clock.now() + 2 * HOUR)
    assert await reminded_deal_ids(crm) == [[deal.id]]
    until = clock.now() + 2 * DAY + HOUR  # Wednesday 12:00
    await crm.deals.snooze(deal_id=deal.id, until=until, actor=team.alice, reason="Customer on holiday")
    await tick_until(crm, clock, until - MINUTE, every=2 * HOUR - MINUTE)
    assert await reminded_deal_ids(crm) == [[deal.id]]
    assert await queued(crm, NoteKind.ESCALATION) == []  # the snooze is an answer to the reminder
    await tick_at(crm, clock, until)
    assert await reminded_deal_ids(crm) == [[deal.id], [deal.id]]
    await tick_until(crm, clock, until + HOUR)
    assert await reminded_deal_ids(crm) == [[deal.id], [deal.id]]
    history = await crm.deals.history(deal_id=deal.id, actor=team.alice)
    assert [(e.kind, e.data.get("reason")) for e in history][-1] == (EventKind.SNOOZED, "Customer on holiday")


async def test_an_open_task_due_later_keeps_the_deal_quiet_until_it_is_overdue(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    due = clock.now() + DAY + HOUR  # Tuesday 10:00; Unsorted alone would go stale at 11:00 today
    await crm.tasks.add(deal_id=deal.id, due_at=due, text="Call after the meeting", actor=team.alice)
    await tick_until(crm, clock, due - MINUTE, every=HOUR - MINUTE)
    assert await reminded_deal_ids(crm) == []
    await tick_at(crm, clock, due)  # the task is overdue and still open: the deal is stale again
    assert await reminded_deal_ids(crm) == [[deal.id]]
    assert len(await queued(crm, NoteKind.TASK_DUE)) == 1


async def note(crm: Crm, team: Team, deal: Deal) -> timedelta:
    await crm.deals.add_note(deal_id=deal.id, text="Spoke to them", actor=team.alice)
    return 2 * HOUR  # Unsorted's follow-up


async def move(crm: Crm, team: Team, deal: Deal) -> timedelta:
    await crm.deals.move(deal_id=deal.id, to_stage="Opportunity", actor=team.alice)
    return 3 * DAY


async def completed_task(crm: Crm, team: Team, deal: Deal) -> timedelta:
    task = await crm.tasks.add(deal_id=deal.id, due_at=crm.clock.now() + HOUR, text="Call", actor=team.alice)
    await crm.tasks.complete(task_id=task.id, actor=team.alice)
    return 2 * HOUR


async def edit(crm: Crm, team: Team, deal: Deal) -> timedelta:
    await crm.deals.edit(deal_id=deal.id, field="amount", value="1000", actor=team.alice)
    return 2 * HOUR


@pytest.mark.parametrize("activity", [note, move, completed_task, edit])
async def test_activity_after_a_reminder_starts_a_new_stale_period_and_stops_the_escalation(
    crm: Crm,
    team: Team,
    clock: FixedClock,
    activity: Callable[[Crm, Team, Deal], Awaitable[timedelta]],
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    await tick_until(crm, clock, clock.now() + 2 * HOUR)  # 11:00, reminded
    assert await reminded_deal_ids(crm) == [[deal.id]]
    clock.advance(HOUR)
    follow_up = await activity(crm, team, deal)  # 12:00
    stale_again = clock.now() + follow_up
    await tick_until(crm, clock, stale_again - MINUTE, every=follow_up / 8)
    assert await reminded_deal_ids(crm) == [[deal.id]]
    assert await queued(crm, NoteKind.ESCALATION) == []  # 13:00 passed: something happened since
    while not (await crm.deals.get(deal_id=deal.id, actor=team.alice)).is_stale(clock.now()) or not (
        crm.config.working_hours.contains(clock.now(), "UTC")
    ):
        clock.advance(HOUR)
    await tick_at(crm, clock, clock.now())
    assert await reminded_deal_ids(crm) == [[deal.id], [deal.id]]


# -- escalation ---------------------------------------------------------------------------------


async def test_a_deal_still_stale_a_follow_up_after_its_reminder_reaches_every_active_boss_once(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    york = await crm.users.add(telegram_id=101, name="York", role=Role.BOSS, timezone="America/New_York")
    gone = await crm.users.add(telegram_id=102, name="Gone", role=Role.BOSS)
    await crm.users.deactivate(telegram_id=gone.telegram_id)
    deal = await crm.deals.create(actor=team.alice, title="Order")
    reminded_at = clock.now() + 2 * HOUR  # 11:00 UTC
    await tick_until(crm, clock, reminded_at + 2 * HOUR - MINUTE, every=MINUTE * 15)
    assert await reminded_deal_ids(crm) == [[deal.id]]
    assert await queued(crm, NoteKind.ESCALATION) == []
    report = await tick_at(crm, clock, reminded_at + 2 * HOUR)  # 13:00 UTC = 08:00 in New York
    assert report.escalations == 1
    rows = await queued(crm, NoteKind.ESCALATION)
    assert sorted((r["recipient_id"], r["not_before"]) for r in rows) == sorted(
        [
            (team.boss.id, reminded_at + 2 * HOUR),  # at work now
            (york.id, datetime(2026, 3, 2, 14, 0, tzinfo=UTC)),  # 09:00 in New York
        ]
    )
    assert all(
        r["payload"] == {"items": [{"deal_id": deal.id, "stale_since": (reminded_at).isoformat()}]}
        for r in rows
    )
    await tick_until(crm, clock, clock.now() + 3 * DAY, every=3 * HOUR)
    assert len(await queued(crm, NoteKind.ESCALATION)) == 2
    assert await reminded_deal_ids(crm) == [[deal.id]]


async def test_escalations_of_several_deals_due_together_come_in_one_message_per_boss(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    first = await crm.deals.create(actor=team.alice, title="First")
    second = await crm.deals.create(actor=team.bob, title="Second")
    await tick_until(crm, clock, clock.now() + 4 * HOUR)
    [row] = await queued(crm, NoteKind.ESCALATION)
    assert row["recipient_id"] == team.boss.id
    assert [i["deal_id"] for i in row["payload"]["items"]] == [first.id, second.id]
    [message] = await Notifier(crm, ChatSettings()).render(
        team.boss, decode_payload(row["kind"], row["payload"])
    )
    assert isinstance(message, View)
    assert "First" in message.html and "Second" in message.html and "Alice" in message.html
    assert any("Nudge Alice" in b.text for r in message.buttons for b in r)


async def test_an_escalation_waiting_for_the_bosss_morning_leaves_out_a_deal_handled_meanwhile(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    clock.current = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    handled = await crm.deals.create(actor=team.alice, title="Handled at night")
    ignored = await crm.deals.create(actor=team.alice, title="Still ignored")
    await tick_at(crm, clock, clock.now() + 2 * HOUR)  # 17:00, reminded
    await tick_at(crm, clock, clock.now() + 2 * HOUR)  # 19:00, escalated: the boss reads it at 09:00
    [row] = await queued(crm, NoteKind.ESCALATION)
    assert row["not_before"] == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    clock.current = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    await crm.deals.move(deal_id=handled.id, to_stage="Opportunity", actor=team.alice)
    clock.current = row["not_before"]
    [message] = await Notifier(crm, ChatSettings()).render(
        team.boss, decode_payload(row["kind"], row["payload"])
    )
    assert isinstance(message, View) and "Still ignored" in message.html and "Handled" not in message.html
    await crm.deals.add_note(deal_id=ignored.id, text="Finally", actor=team.alice)
    assert (
        await Notifier(crm, ChatSettings()).render(team.boss, decode_payload(row["kind"], row["payload"]))
        == []
    )


async def test_with_no_boss_yet_an_escalation_waits_for_the_first_boss_to_join(
    crm: Crm, clock: FixedClock
) -> None:
    seller = await crm.users.add(telegram_id=201, name="Solo", role=Role.SELLER)
    await crm.deals.create(actor=seller, title="Order")
    await tick_until(crm, clock, clock.now() + 5 * HOUR)
    assert await queued(crm, NoteKind.ESCALATION) == []
    boss = await crm.users.add(telegram_id=100, name="Boss", role=Role.BOSS)
    await tick_until(crm, clock, clock.now() + HOUR)
    assert recipients(await queued(crm, NoteKind.ESCALATION)) == [boss.id]
