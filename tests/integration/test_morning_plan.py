"""The sellers' morning plan: once per local working day, at the start of their working hours; never on
a weekend, never twice, not after they switched it off; with a hint from the shape of their funnel."""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.core.context import ChatSettings
from bot.core.i18n import bare
from bot.core.notify import Notifier
from bot.core.views import View
from crm_core.adapters.repositories.outbox import OutboxRepository
from crm_core.domain.errors import Unavailable
from crm_core.domain.notifications import NoteKind, Notification, decode_payload
from crm_core.domain.tasks import TaskKind
from crm_core.domain.users import Role, User
from crm_core.ports import FixedClock
from crm_core.services import Crm
from crm_core.services.funnel import funnels_spec_from_document
from tests.integration.followup_support import HOUR, MINUTE, queued, tick_at, tick_until
from tests.integration.support import Team, outbox

THURSDAY_MIDNIGHT = datetime(2026, 3, 5, 0, 0, tzinfo=UTC)
MONDAY_NOON = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


async def plans_of(crm: Crm, user: User) -> list[tuple[str, datetime]]:
    """(local date, when queued) of each morning plan queued for ``user``."""
    return [
        (row["payload"]["date"], row["created_at"])
        for row in await queued(crm, NoteKind.MORNING_PLAN)
        if row["recipient_id"] == user.id
    ]


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


async def render(crm: Crm, user: User) -> str:
    [message] = await Notifier(crm, ChatSettings()).render(
        user, decode_payload(NoteKind.MORNING_PLAN, {"date": "2026-01-05"})
    )
    assert isinstance(message, View)
    return html.unescape(message.html)  # the text as the user reads it


async def test_each_seller_gets_one_plan_per_local_working_day_at_nine_and_none_at_the_weekend(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    tokyo = await crm.users.add(telegram_id=301, name="Kenji", role=Role.SELLER, timezone="Asia/Tokyo")
    await crm.followups.set_preferences(actor=team.carol, morning_plan=False)
    clock.current = THURSDAY_MIDNIGHT - HOUR
    await tick_until(crm, clock, MONDAY_NOON, every=HOUR)
    assert await plans_of(crm, team.alice) == [
        ("2026-03-05", at(5, 9)),  # Thursday
        ("2026-03-06", at(6, 9)),  # Friday
        ("2026-03-09", at(9, 9)),  # Monday
    ]
    assert await plans_of(crm, tokyo) == [  # 09:00 in Tokyo is midnight UTC
        ("2026-03-05", at(5, 0)),
        ("2026-03-06", at(6, 0)),
        ("2026-03-09", at(9, 0)),
    ]
    assert await plans_of(crm, team.carol) == []
    assert await plans_of(crm, team.boss) == []


async def days_planned(crm: Crm, user: User) -> list[str]:
    return [day for day, _ in await plans_of(crm, user)]


async def test_a_plan_switched_off_stops_and_switched_back_on_comes_at_the_next_tick_once(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await tick_until(crm, clock, clock.now() + 2 * HOUR, every=30 * MINUTE)
    assert await days_planned(crm, team.alice) == ["2026-03-02"]
    await crm.followups.set_preferences(actor=team.alice, morning_plan=False)
    await tick_until(crm, clock, datetime(2026, 3, 3, 12, 0, tzinfo=UTC), every=HOUR)
    assert await days_planned(crm, team.alice) == ["2026-03-02"]
    await crm.followups.set_preferences(actor=team.alice, morning_plan=True)  # the button, at noon
    await tick_until(crm, clock, datetime(2026, 3, 3, 18, 0, tzinfo=UTC), every=HOUR)
    assert await days_planned(crm, team.alice) == ["2026-03-02", "2026-03-03"]


async def test_a_plan_shown_with_slash_morning_is_not_sent_again_the_same_day(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await crm.followups.set_preferences(actor=team.alice, morning_plan=False)
    await tick_until(crm, clock, clock.now() + HOUR, every=30 * MINUTE)
    await crm.followups.morning_plan_shown(actor=team.alice)  # /morning: shown now, and on again
    assert (await crm.followups.preferences(actor=team.alice)).morning_plan_enabled
    await tick_until(crm, clock, datetime(2026, 3, 3, 10, 0, tzinfo=UTC), every=HOUR)
    assert await days_planned(crm, team.alice) == ["2026-03-03"]


async def test_the_plan_lists_todays_tasks_and_waiting_deals_and_points_at_a_crowded_inbox(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    clock.current = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    for title in ("Lead one", "Lead two", "Lead three"):
        await crm.deals.create(actor=team.alice, title=title)
    deal = await crm.deals.create(actor=team.alice, title="Big order", stage="Execution")
    await crm.tasks.add(
        deal_id=deal.id, due_at=clock.now() + 4 * HOUR, text="Send the offer", actor=team.alice
    )
    await crm.tasks.add(deal_id=deal.id, due_at=clock.now() + 30 * HOUR, text="Tomorrow's", actor=team.alice)
    clock.current = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    plan = await crm.reports.morning_plan(actor=team.alice)
    assert [t.text for t in plan.tasks] == ["Send the offer"]
    assert sorted(d.title for d in plan.stale) == ["Lead one", "Lead three", "Lead two"]
    html = await render(crm, team.alice)
    assert "Good morning, Alice" in html and "Send the offer" in html and "Tomorrow's" not in html
    assert "Lead two" in html
    assert "The inbox has 3 unsorted deals — sort them first." in html


async def test_the_plan_points_at_an_empty_stage_right_after_a_full_one(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    for title in ("A", "B"):
        await crm.deals.create(actor=team.alice, title=title, stage="Opportunity")
    await crm.deals.create(actor=team.alice, title="C", stage="Document approval")
    html = await render(crm, team.alice)
    # Document approval is followed by an empty stage too, but it is nearer the money
    assert "Nothing is in Signing & payment — push the deals in Document approval." in html
    plan = await crm.reports.morning_plan(actor=team.alice)
    assert plan.nudge is not None and plan.nudge.count == 1
    assert plan.day == date(2026, 3, 2)


RENEWALS = [
    {"name": "New renewal", "kind": "inbox", "follow_up": "4h"},
    {"name": "Quote", "kind": "open", "follow_up": "2d"},
    {"name": "Signed", "kind": "open", "follow_up": "2d"},
    {"name": "Renewed", "kind": "won"},
    {"name": "Churned", "kind": "lost"},
]


async def with_renewals(crm: Crm, team: Team) -> None:
    """A second funnel, Renewals, next to the default one (Sales)."""
    sales: dict[str, Any] = await crm.pipelines.document()
    document = {
        "pipelines": [
            {"pipeline": "Sales", "default": True, "stages": sales["stages"]},
            {"pipeline": "Renewals", "stages": RENEWALS},
        ]
    }
    await crm.pipelines.apply(funnels_spec_from_document(document), actor=team.boss)


async def test_a_seller_with_deals_in_two_funnels_gets_each_funnels_hint_under_its_name(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await with_renewals(crm, team)
    for title in ("R1", "R2", "R3"):
        await crm.deals.create(actor=team.alice, title=title, pipeline="Renewals")
    await crm.deals.create(actor=team.alice, title="S1", stage="Document approval")
    await crm.deals.create(actor=team.bob, title="Bob's", pipeline="Renewals", stage="Quote")
    clock.current += 5 * HOUR  # every inbox deal is past its 4 hours
    plan = await crm.reports.morning_plan(actor=team.alice)
    assert sorted(d.title for d in plan.stale) == ["R1", "R2", "R3"]
    assert plan.pipelines == 2
    assert [(n.pipeline.name, n.nudge.kind, n.nudge.count, n.nudge.stage.name) for n in plan.nudges] == [
        ("Sales", "empty_stage", 1, "Signing & payment"),
        ("Renewals", "inbox", 3, "New renewal"),  # the seller's own three, not Bob's
    ]
    text = bare(await render(crm, team.alice))
    sales = text.index("🧭 Sales")
    renewals = text.index("🧭 Renewals")
    assert sales < text.index("Nothing is in Signing & payment — push the deals in Document approval.")
    assert sales < renewals < text.index("The inbox has 3 unsorted deals — sort them first.")
    bob = await crm.reports.morning_plan(actor=team.bob)  # Quote, then an empty Signed: Bob's own hint
    assert [(n.pipeline.name, n.nudge.stage.name) for n in bob.nudges] == [("Renewals", "Signed")]
    text = bare(await render(crm, team.bob))
    assert "🧭 Renewals" in text and "🧭 Sales" not in text


async def test_with_one_funnel_the_hint_names_no_funnel(crm: Crm, team: Team) -> None:
    for title in ("A", "B", "C"):
        await crm.deals.create(actor=team.alice, title=title)
    text = await render(crm, team.alice)
    assert "The inbox has 3 unsorted deals — sort them first." in text and "🧭" not in text


def at_time(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


async def sent_to(crm: Crm, user: User) -> list[tuple[str, datetime]]:
    """(kind, when queued) of every notification queued for ``user``."""
    return [(row["kind"], row["created_at"]) for row in await outbox(crm) if row["recipient_id"] == user.id]


async def plans_queued(crm: Crm, user: User) -> list[dict[str, Any]]:
    return [row for row in await queued(crm, NoteKind.MORNING_PLAN) if row["recipient_id"] == user.id]


async def overnight(crm: Crm, team: Team, clock: FixedClock) -> dict[str, int]:
    """Wednesday evening: a deal that goes stale at 20:00, a call-back rung at 18:40 and still open (its
    repeat waits for the morning), a call-back planned for 23:00, a task for 09:00 and one for 11:00.
    Wednesday's plan was seen already."""
    clock.current = at_time(4, 18)
    await crm.followups.morning_plan_shown(actor=team.alice)
    quiet = await crm.deals.create(actor=team.alice, title="Gone quiet")
    order = await crm.deals.create(actor=team.alice, title="Big order", stage="Opportunity")
    rang = await crm.tasks.add(
        deal_id=order.id,
        due_at=at_time(4, 18, 40),
        text="Ring back",
        actor=team.alice,
        kind=TaskKind.CALL_BACK,
    )
    night = await crm.tasks.add(
        deal_id=order.id, due_at=at_time(4, 23), text="Call back", actor=team.alice, kind=TaskKind.CALL_BACK
    )
    offer = await crm.tasks.add(
        deal_id=order.id, due_at=at_time(5, 9), text="Send the offer", actor=team.alice
    )
    later = await crm.tasks.add(deal_id=order.id, due_at=at_time(5, 11), text="Confirm", actor=team.alice)
    return {"quiet": quiet.id, "rang": rang.id, "night": night.id, "offer": offer.id, "later": later.id}


async def test_the_start_of_the_day_is_one_morning_message_with_everything_due_not_a_burst(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    made = await overnight(crm, team, clock)
    await tick_until(crm, clock, at_time(5, 12), every=10 * MINUTE)
    assert await sent_to(crm, team.alice) == [
        (NoteKind.TASK_DUE, at_time(4, 18, 40)),  # the call-back rung in working hours, when due
        (NoteKind.MORNING_PLAN, at_time(5, 9)),  # the stale deal, the night's call-back, the 09:00 task,
        (NoteKind.TASK_DUE, at_time(5, 9, 30)),  # the repeat: all in the plan; the night's call-back still
        (NoteKind.TASK_DUE, at_time(5, 11)),  # open after half an hour, and the 11:00 task, on their own
    ]
    [plan] = await plans_queued(crm, team.alice)
    assert plan["payload"] == {
        "date": "2026-03-05",
        "deal_ids": [made["quiet"]],
        "task_ids": [made["night"], made["offer"]],
        "repeat_ids": [made["rang"]],
    }
    text = await render(crm, team.alice)
    assert all(words in text for words in ("Gone quiet", "Call back", "Ring back", "Send the offer"))


async def test_a_plan_set_for_ten_holds_what_waits_for_working_hours_until_it_comes(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await crm.followups.set_preferences(actor=team.alice, morning_time="10:00")
    made = await overnight(crm, team, clock)
    await tick_until(crm, clock, at_time(5, 12), every=15 * MINUTE)
    assert await sent_to(crm, team.alice) == [
        (NoteKind.TASK_DUE, at_time(4, 18, 45)),
        (NoteKind.TASK_DUE, at_time(5, 9)),  # the 09:00 task she set comes when she asked
        (NoteKind.MORNING_PLAN, at_time(5, 10)),  # the reminder and the call-backs waited for the plan
        (NoteKind.TASK_DUE, at_time(5, 10, 30)),
        (NoteKind.TASK_DUE, at_time(5, 11)),
    ]
    [plan] = await plans_queued(crm, team.alice)
    assert (plan["payload"]["deal_ids"], plan["payload"]["task_ids"]) == ([made["quiet"]], [made["night"]])


async def test_a_seller_with_the_morning_plan_off_gets_each_notice_on_its_own_as_before(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await overnight(crm, team, clock)
    await crm.followups.set_preferences(actor=team.alice, morning_plan=False)
    await tick_until(crm, clock, at_time(5, 12), every=10 * MINUTE)
    assert sorted(await sent_to(crm, team.alice), key=lambda s: (s[1], s[0])) == [
        (NoteKind.TASK_DUE, at_time(4, 18, 40)),
        (NoteKind.STALE_REMINDER, at_time(5, 9)),
        (NoteKind.TASK_DUE, at_time(5, 9)),
        (NoteKind.TASK_DUE, at_time(5, 9)),
        (NoteKind.TASK_DUE, at_time(5, 9)),
        (NoteKind.TASK_DUE, at_time(5, 9, 30)),
        (NoteKind.TASK_DUE, at_time(5, 11)),
    ]


async def test_plans_queued_twice_at_once_take_in_each_reminder_once(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    """Two ticks at the same moment (two processes): one plan, and nothing of it sent again beside it."""
    made = await overnight(crm, team, clock)
    await tick_until(crm, clock, at_time(5, 8, 50), every=10 * MINUTE)
    clock.current = at_time(5, 9)
    await asyncio.gather(crm.followups.tick(at_time(5, 9)), crm.followups.tick(at_time(5, 9)))
    assert await sent_to(crm, team.alice) == [
        (NoteKind.TASK_DUE, at_time(4, 18, 40)),
        (NoteKind.MORNING_PLAN, at_time(5, 9)),
    ]
    [plan] = await plans_queued(crm, team.alice)
    assert plan["payload"]["deal_ids"] == [made["quiet"]]


async def test_a_tick_that_dies_while_queuing_the_plan_claims_nothing_and_the_next_sends_it_all(
    crm: Crm, team: Team, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed between claiming the plan's reminders and queuing it: its transaction never
    commits, so nothing it claimed is lost; the next tick (the standby's) sends the plan with all of it."""
    made = await overnight(crm, team, clock)
    await tick_until(crm, clock, at_time(5, 8, 50), every=10 * MINUTE)
    real_put = OutboxRepository.put

    async def dies_at_the_plan(self: OutboxRepository, note: Notification, *, at: datetime) -> bool:
        if note.kind == NoteKind.MORNING_PLAN:
            raise ConnectionResetError("the worker is gone")
        return await real_put(self, note, at=at)

    monkeypatch.setattr(OutboxRepository, "put", dies_at_the_plan)
    with pytest.raises(Unavailable):  # how the unit of work reports a lost connection
        await tick_at(crm, clock, at_time(5, 9))
    monkeypatch.setattr(OutboxRepository, "put", real_put)
    assert await sent_to(crm, team.alice) == [(NoteKind.TASK_DUE, at_time(4, 18, 40))]
    await tick_at(crm, clock, at_time(5, 9, 1))
    assert await sent_to(crm, team.alice) == [
        (NoteKind.TASK_DUE, at_time(4, 18, 40)),
        (NoteKind.MORNING_PLAN, at_time(5, 9, 1)),
    ]
    [plan] = await plans_queued(crm, team.alice)
    assert plan["payload"]["deal_ids"] == [made["quiet"]]
    assert plan["payload"]["task_ids"] == [made["night"], made["offer"]]
    assert plan["payload"]["repeat_ids"] == [made["rang"]]


async def test_the_plan_in_arabic_reads_right_to_left_with_latin_titles_kept_whole(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    """Every line starts right to left, a Latin title is isolated, no row holds more than three buttons,
    and the buttons act on what is due: a page of three tasks, then "more" (its arrow the reader's way)
    to the waiting deal."""
    await overnight(crm, team, clock)
    clock.current = at_time(5, 9)
    ali = await crm.users.update_preferences(actor=team.alice, locale="ar")
    [view] = await Notifier(crm, ChatSettings()).render(
        ali, decode_payload(NoteKind.MORNING_PLAN, {"date": "2026-03-05"})
    )
    assert isinstance(view, View)
    lines = [line for line in view.html.splitlines() if line]
    assert all(line[0] == "\u200f" for line in lines), lines  # each line's direction: the reader's
    assert "\u2068Gone quiet\u2069" in view.html and "\u2068Big order\u2069" in view.html
    assert all(len(row) <= 3 for row in view.buttons)
    labels = [b.text for row in view.buttons for b in row]
    assert sum("✅" in label for label in labels) == 3  # the two call-backs and the 09:00 task, each
    assert "المزيد (1) ◀" in labels and not any("Gone quiet" in label for label in labels)
    assert "🔕 إيقاف خطة الصباح" in labels
