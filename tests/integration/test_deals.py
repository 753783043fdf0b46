"""Working deals through the services, on SQLite and PostgreSQL: what a user does and then sees."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from crm_core.adapters.database import Database
from crm_core.config import CrmConfig
from crm_core.domain.deals import Priority
from crm_core.domain.errors import (
    Conflict,
    DealClosed,
    InvalidInput,
    NotAllowed,
    NotFound,
    ReopensElsewhere,
    StaleVersion,
)
from crm_core.domain.history import EventKind
from crm_core.domain.listing import DealOrder
from crm_core.domain.notifications import NoteKind
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.integration.support import Team, deal_count, outbox, stored

MOSCOW = "+74951234567"


async def test_a_new_deal_starts_in_the_inbox_owned_by_its_creator(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(
        actor=team.alice, title="ACME order", amount="1 500,50", phone="8 495 123-45-67", contact_name="Ivan"
    )
    again = await crm.deals.get(deal_id=deal.id, actor=team.alice)
    assert again.stage.name == "Unsorted"
    assert again.owner is not None and again.owner.name == "Alice"
    assert again.amount == Decimal("1500.50") and isinstance(again.amount, Decimal)
    assert again.contact is not None and (again.contact.name, again.contact.phone) == ("Ivan", MOSCOW)
    assert (again.currency, again.source.value, again.priority, again.version) == (
        "RUB",
        "manual",
        Priority.NORMAL,
        1,
    )
    assert again.created_at == again.stage_entered_at == again.last_activity_at == clock.now()
    [created] = await crm.deals.history(deal_id=deal.id, actor=team.alice)
    assert (created.kind, created.actor_name, created.data["amount"]) == (
        EventKind.CREATED,
        "Alice",
        "1500.50",
    )


@pytest.mark.parametrize("typed", ["1 500,50", "1,500.50", "1500.5", Decimal("1500.50")])
async def test_an_amount_is_stored_to_the_cent_however_it_was_typed(crm: Crm, team: Team, typed: str) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Cents", amount=typed)
    assert (await crm.deals.get(deal_id=deal.id, actor=team.alice)).amount == Decimal("1500.50")


async def test_the_largest_amount_survives_storage_exactly(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Big", amount="999 999 999 999,99")
    assert (await crm.deals.get(deal_id=deal.id, actor=team.alice)).amount == Decimal("999999999999.99")


async def test_money_is_stored_as_whole_cents_on_sqlite_and_as_numeric_14_2_on_postgresql(
    db: Database, crm: Crm, team: Team
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Cents", amount="1 500,50")
    async with db.engine.connect() as conn:
        raw = await conn.scalar(text("SELECT amount FROM deals WHERE id = :id"), {"id": deal.id})
        if db.is_sqlite:
            assert (raw, type(raw)) == (150050, int)
        else:
            assert (raw, type(raw)) == (Decimal("1500.50"), Decimal)
            column = (
                await conn.execute(
                    text(
                        "SELECT data_type, numeric_precision, numeric_scale FROM information_schema.columns"
                        " WHERE table_name = 'deals' AND column_name = 'amount'"
                    )
                )
            ).one()
            assert tuple(column) == ("numeric", 14, 2)


async def test_one_phone_typed_three_ways_is_one_contact(crm: Crm, team: Team) -> None:
    deals = [
        await crm.deals.create(actor=team.alice, title=f"Deal {i}", phone=phone)
        for i, phone in enumerate(["8 495 123-45-67", "+7 (495) 123 45 67", "74951234567"])
    ]
    contacts = {(d.contact.id, d.contact.phone) for d in deals if d.contact}
    assert len(contacts) == 1
    assert contacts.pop()[1] == MOSCOW


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"phone": "12345"}, InvalidInput),
        ({"amount": "abc"}, InvalidInput),
        ({"amount": "-5"}, InvalidInput),
        ({"amount": Decimal("-5")}, InvalidInput),
        ({"title": ""}, InvalidInput),
        ({"title": "   "}, InvalidInput),
        ({"title": "x" * 201}, InvalidInput),
        ({"stage": "Negotiation"}, NotFound),
        ({"stage": "Won"}, InvalidInput),
        ({"owner_telegram_id": 999}, NotFound),
        ({"currency": "dollars"}, InvalidInput),
    ],
)
async def test_a_deal_with_bad_input_is_refused_and_nothing_is_created(
    crm: Crm, team: Team, fields: dict[str, object], error: type[Exception]
) -> None:
    request: dict[str, object] = {"title": "Order", **fields}
    with pytest.raises(error):
        await crm.deals.create(actor=team.boss, **request)  # type: ignore[arg-type]
    assert await deal_count(crm) == 0


TEXTS = ["ООО «Ёлка» — заказ", "شركة النور للتجارة", "Launch 🚀 ✨", "Straße № 5"]


@pytest.mark.parametrize("text", TEXTS)
async def test_text_in_any_script_comes_back_unchanged(crm: Crm, team: Team, text: str) -> None:
    deal = await crm.deals.create(actor=team.alice, title=text, contact_name=text)
    await crm.deals.add_note(deal_id=deal.id, text=text, actor=team.alice)
    await crm.deals.mark_lost(deal_id=deal.id, reason=text, actor=team.alice)
    again = await crm.deals.get(deal_id=deal.id, actor=team.alice)
    assert again.title == text
    assert again.contact is not None and again.contact.name == text
    assert again.lost_reason == text
    history = await crm.deals.history(deal_id=deal.id, actor=team.alice)
    assert [e.data.get("text") for e in history if e.kind is EventKind.NOTE] == [text]


async def test_a_deal_moves_to_any_stage_forward_or_back(crm: Crm, team: Team, clock: FixedClock) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    clock.advance(timedelta(hours=1))
    moved = await crm.deals.move(deal_id=deal.id, to_stage="document approval", actor=team.alice)
    assert (moved.stage.name, moved.stage_entered_at, moved.version) == ("Document approval", clock.now(), 2)
    back = await crm.deals.move(deal_id=deal.id, to_stage=moved.stage.id - 2, actor=team.alice)
    assert back.stage.name == "Opportunity"
    forward = await crm.deals.move_next(deal_id=deal.id, actor=team.alice)
    assert forward.stage.name == "Commercial offer"
    backward = await crm.deals.move_previous(deal_id=deal.id, actor=team.alice)
    assert backward.stage.name == "Opportunity"
    history = await crm.deals.history(deal_id=deal.id, actor=team.alice)
    assert [e.kind for e in history] == [EventKind.CREATED] + [EventKind.MOVED] * 4


async def test_there_is_no_stage_before_the_inbox(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    with pytest.raises(InvalidInput):
        await crm.deals.move_previous(deal_id=deal.id, actor=team.alice)


async def test_winning_closes_a_deal_and_moving_it_out_reopens_it(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order", amount="100")
    clock.advance(timedelta(days=1))
    won = await crm.deals.mark_won(deal_id=deal.id, actor=team.alice)
    assert (won.stage.name, won.closed_at, won.is_closed) == ("Won", clock.now(), True)
    clock.advance(timedelta(days=1))
    before = await stored(crm, deal.id)
    with pytest.raises(ReopensElsewhere):  # won from Unsorted: it goes back there, nowhere else
        await crm.deals.move(deal_id=deal.id, to_stage="Execution", actor=team.alice)
    assert await stored(crm, deal.id) == before
    reopened = await crm.deals.move(deal_id=deal.id, to_stage="Unsorted", actor=team.alice)
    assert (reopened.stage.name, reopened.closed_at) == ("Unsorted", None)
    kinds = [e.kind for e in await crm.deals.history(deal_id=deal.id, actor=team.alice)]
    assert kinds == [EventKind.CREATED, EventKind.WON, EventKind.REOPENED]


async def test_losing_needs_a_reason_and_keeps_it_until_the_deal_is_reopened(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    before = await stored(crm, deal.id)
    with pytest.raises(InvalidInput):
        await crm.deals.mark_lost(deal_id=deal.id, reason="  ", actor=team.alice)
    with pytest.raises(InvalidInput):
        await crm.deals.move(deal_id=deal.id, to_stage="Lost", actor=team.alice)
    assert await stored(crm, deal.id) == before
    lost = await crm.deals.mark_lost(deal_id=deal.id, reason="Price", actor=team.alice)
    assert (lost.stage.name, lost.lost_reason) == ("Lost", "Price")
    reopened = await crm.deals.move(deal_id=deal.id, to_stage="Unsorted", actor=team.alice)
    assert (reopened.lost_reason, reopened.closed_at) == (None, None)


@pytest.mark.parametrize(
    ("closed_as", "attempt"),
    [
        ("won", "mark_won"),
        ("won", "mark_lost"),
        ("won", "move_to_lost"),
        ("lost", "mark_lost"),
        ("lost", "mark_won"),
        ("lost", "move_to_won"),
    ],
)
async def test_a_closed_deal_cannot_be_closed_again_and_nothing_changes(
    crm: Crm, team: Team, closed_as: str, attempt: str
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    if closed_as == "won":
        await crm.deals.mark_won(deal_id=deal.id, actor=team.alice)
    else:
        await crm.deals.mark_lost(deal_id=deal.id, reason="Price", actor=team.alice)
    before = await stored(crm, deal.id)
    attempts = {
        "mark_won": lambda: crm.deals.mark_won(deal_id=deal.id, actor=team.alice),
        "mark_lost": lambda: crm.deals.mark_lost(deal_id=deal.id, reason="Other", actor=team.alice),
        "move_to_won": lambda: crm.deals.move(deal_id=deal.id, to_stage="Won", actor=team.alice),
        "move_to_lost": lambda: crm.deals.move(
            deal_id=deal.id, to_stage="Lost", actor=team.alice, lost_reason="x"
        ),
    }
    with pytest.raises(DealClosed):
        await attempts[attempt]()
    assert await stored(crm, deal.id) == before


async def test_moving_to_an_unknown_stage_is_refused_and_nothing_changes(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    before = await stored(crm, deal.id)
    for stage in ("Negotiation", 9999, "Unsorted"):
        with pytest.raises((NotFound, InvalidInput)):
            await crm.deals.move(deal_id=deal.id, to_stage=stage, actor=team.alice)
    assert await stored(crm, deal.id) == before


async def test_a_boss_reassigns_a_deal_with_its_open_tasks_and_the_new_owner_is_told(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    task = await crm.tasks.add(
        deal_id=deal.id, due_at=clock.now() + timedelta(days=1), text="Call", actor=team.alice
    )
    moved = await crm.deals.reassign(deal_id=deal.id, owner_telegram_id=team.bob.telegram_id, actor=team.boss)
    assert moved.owner is not None and moved.owner.name == "Bob"
    assert (await crm.tasks.get(task_id=task.id, actor=team.bob)).assignee_id == team.bob.id
    [note] = await outbox(crm)
    assert (note["recipient_id"], note["kind"], note["payload"]["deal_id"]) == (
        team.bob.id,
        NoteKind.DEAL_ASSIGNED,
        deal.id,
    )
    last = (await crm.deals.history(deal_id=deal.id, actor=team.boss))[-1]
    assert (last.kind, last.actor_name, last.data["to_owner_name"]) == (EventKind.REASSIGNED, "Boss", "Bob")


async def test_reassigning_to_an_unknown_or_deactivated_user_is_refused(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    await crm.users.deactivate(telegram_id=team.carol.telegram_id)
    before = await stored(crm, deal.id)
    for telegram_id in (999, team.carol.telegram_id):
        with pytest.raises(NotFound):
            await crm.deals.reassign(deal_id=deal.id, owner_telegram_id=telegram_id, actor=team.boss)
    with pytest.raises(InvalidInput):
        await crm.deals.reassign(deal_id=deal.id, owner_telegram_id=team.alice.telegram_id, actor=team.boss)
    assert await stored(crm, deal.id) == before


async def test_a_seller_takes_an_unassigned_inbox_deal_and_then_it_is_theirs(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.boss, title="Walk-in")
    await crm.deals.reassign(deal_id=deal.id, owner_telegram_id=None, actor=team.boss)
    taken = await crm.deals.take(deal_id=deal.id, actor=team.bob)
    assert taken.owner is not None and taken.owner.name == "Bob"
    before = await stored(crm, deal.id)
    with pytest.raises(Conflict):
        await crm.deals.take(deal_id=deal.id, actor=team.boss)
    assert await stored(crm, deal.id) == before


async def test_taking_a_deal_takes_its_open_tasks_too(crm: Crm, team: Team, clock: FixedClock) -> None:
    deal = await crm.deals.create(actor=team.boss, title="Walk-in")
    task = await crm.tasks.add(
        deal_id=deal.id, due_at=clock.now() + timedelta(hours=1), text="Call", actor=team.boss
    )
    await crm.deals.reassign(deal_id=deal.id, owner_telegram_id=None, actor=team.boss)
    assert (await crm.tasks.get(task_id=task.id, actor=team.boss)).assignee_id is None
    await crm.deals.take(deal_id=deal.id, actor=team.bob)
    assert [t.id for t in await crm.tasks.open_tasks(actor=team.bob)] == [task.id]


async def test_a_boss_creating_a_deal_for_a_seller_tells_them_and_nobody_is_told_of_their_own(
    crm: Crm, team: Team
) -> None:
    await crm.deals.create(actor=team.alice, title="Mine")
    assert await outbox(crm) == []
    deal = await crm.deals.create(actor=team.boss, title="For Bob", owner_telegram_id=team.bob.telegram_id)
    [note] = await outbox(crm)
    assert (note["recipient_id"], note["kind"], note["payload"]) == (
        team.bob.id,
        NoteKind.DEAL_ASSIGNED,
        {"deal_id": deal.id, "by_name": "Boss"},
    )


async def test_a_note_goes_into_history_and_counts_as_activity(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    clock.advance(timedelta(hours=3))
    noted = await crm.deals.add_note(deal_id=deal.id, text="Called, no answer", actor=team.alice)
    assert noted.last_activity_at == clock.now()
    last = (await crm.deals.history(deal_id=deal.id, actor=team.alice))[-1]
    assert (last.kind, last.data, last.actor_name) == (EventKind.NOTE, {"text": "Called, no answer"}, "Alice")


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("title", "  New title ", "New title"),
        ("amount", "2 000,10", "2000.10"),
        ("currency", "usd", "USD"),
        ("contact", "Пётр", "Пётр"),
        ("company", "ООО Ромашка", "ООО Ромашка"),
        ("phone", "8 (495) 765-43-21", "+74957654321"),
        ("priority", "HIGH", "high"),
    ],
)
async def test_an_edit_changes_the_field_and_history_shows_old_and_new(
    crm: Crm, team: Team, field: str, value: str, shown: str
) -> None:
    deal = await crm.deals.create(
        actor=team.alice, title="Order", amount="1000", contact_name="Ivan", phone=MOSCOW
    )
    edited = await crm.deals.edit(deal_id=deal.id, field=field, value=value, actor=team.alice)
    assert edited.version == 2
    again = await crm.deals.get(deal_id=deal.id, actor=team.alice)
    assert again.contact is not None
    current = {
        "title": again.title,
        "amount": str(again.amount),
        "currency": again.currency,
        "contact": again.contact.name,
        "company": again.contact.company,
        "phone": again.contact.phone,
        "priority": again.priority.value,
    }[field]
    assert current == shown
    last = (await crm.deals.history(deal_id=deal.id, actor=team.alice))[-1]
    assert last.kind in (EventKind.EDITED, EventKind.PRIORITY_CHANGED)
    assert last.data["new"] == shown


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ""),
        ("title", "x" * 201),
        ("title", "Order"),  # nothing changed
        ("amount", "abc"),
        ("amount", "-5"),
        ("phone", "12345"),
        ("phone", "74951234567"),  # the same number, written otherwise
        ("priority", "urgent"),
        ("currency", "RUBLES"),
        ("owner", "Bob"),  # not an editable field
    ],
)
async def test_an_edit_with_bad_input_is_refused_and_nothing_changes(
    crm: Crm, team: Team, field: str, value: str
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order", amount="1000", phone=MOSCOW)
    before = await stored(crm, deal.id)
    with pytest.raises(InvalidInput):
        await crm.deals.edit(deal_id=deal.id, field=field, value=value, actor=team.alice)
    assert await stored(crm, deal.id) == before


async def test_editing_a_phone_to_a_known_number_points_the_deal_at_that_contact(
    crm: Crm, team: Team
) -> None:
    ivan = await crm.deals.create(actor=team.alice, title="Ivan's", contact_name="Ivan", phone=MOSCOW)
    other = await crm.deals.create(actor=team.alice, title="Other", phone="+74957654321")
    edited = await crm.deals.edit(deal_id=other.id, field="phone", value="8 495 123 45 67", actor=team.alice)
    assert edited.contact is not None and ivan.contact is not None
    assert (edited.contact.id, edited.contact.name) == (ivan.contact.id, "Ivan")


async def test_priority_is_set_and_snoozing_needs_a_future_time(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    assert (
        await crm.deals.set_priority(deal_id=deal.id, priority=Priority.HIGH, actor=team.alice)
    ).priority is (Priority.HIGH)
    snoozed = await crm.deals.snooze(
        deal_id=deal.id, until=clock.now() + timedelta(days=2), actor=team.alice, reason="on holiday"
    )
    assert snoozed.snoozed_until == clock.now() + timedelta(days=2)
    before = await stored(crm, deal.id)
    with pytest.raises(InvalidInput):
        await crm.deals.snooze(deal_id=deal.id, until=clock.now() - timedelta(minutes=1), actor=team.alice)
    assert await stored(crm, deal.id) == before


async def test_a_change_made_from_a_stale_version_is_refused(
    db: Database, crm: Crm, team: Team, clock: FixedClock, crm_config: CrmConfig
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order")
    phone_app, laptop = Crm(db, clock=clock, config=crm_config), Crm(db, clock=clock, config=crm_config)
    seen_on_phone = await phone_app.deals.get(deal_id=deal.id, actor=team.alice)
    seen_on_laptop = await laptop.deals.get(deal_id=deal.id, actor=team.alice)
    assert seen_on_phone.version == seen_on_laptop.version == 1
    await phone_app.deals.move(
        deal_id=deal.id, to_stage="Opportunity", actor=team.alice, expected_version=seen_on_phone.version
    )
    before = await stored(crm, deal.id)
    with pytest.raises(StaleVersion):
        await laptop.deals.mark_won(
            deal_id=deal.id, actor=team.alice, expected_version=seen_on_laptop.version
        )
    with pytest.raises(StaleVersion):
        await laptop.deals.edit(
            deal_id=deal.id,
            field="title",
            value="Mine",
            actor=team.alice,
            expected_version=seen_on_laptop.version,
        )
    after = await stored(crm, deal.id)
    assert after == before
    assert (after["deal"].stage.name, after["deal"].version) == ("Opportunity", 2)


async def test_a_deactivated_user_can_do_nothing(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.carol, title="Order")
    gone, _ = await crm.users.deactivate(
        telegram_id=team.carol.telegram_id, hand_over_to=team.alice.telegram_id
    )
    with pytest.raises(NotAllowed):
        await crm.deals.create(actor=gone, title="More")
    with pytest.raises(NotAllowed):
        await crm.deals.get(deal_id=deal.id, actor=gone)


async def _five_deals_entering_opportunity(crm: Crm, team: Team, clock: FixedClock) -> list[int]:
    ids = []
    for n in range(1, 6):
        clock.advance(timedelta(minutes=1))
        ids.append((await crm.deals.create(actor=team.alice, title=f"Deal {n}", stage="Opportunity")).id)
    return ids


async def test_a_stage_lists_the_newest_arrivals_first_a_page_at_a_time(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    d1, d2, d3, d4, d5 = await _five_deals_entering_opportunity(crm, team, clock)
    _, first = await crm.deals.column(stage="Opportunity", actor=team.alice, limit=2)
    assert ([d.id for d in first.items], first.prev_cursor) == ([d5, d4], None)
    _, second = await crm.deals.column(
        stage="Opportunity", actor=team.alice, limit=2, cursor=first.next_cursor
    )
    assert [d.id for d in second.items] == [d3, d2]
    _, third = await crm.deals.column(
        stage="Opportunity", actor=team.alice, limit=2, cursor=second.next_cursor
    )
    assert ([d.id for d in third.items], third.next_cursor) == ([d1], None)
    _, back = await crm.deals.column(
        stage="Opportunity", actor=team.alice, limit=2, cursor=third.prev_cursor, backwards=True
    )
    assert [d.id for d in back.items] == [d3, d2]
    _, start = await crm.deals.column(
        stage="Opportunity", actor=team.alice, limit=2, cursor=back.prev_cursor, backwards=True
    )
    assert ([d.id for d in start.items], start.prev_cursor) == ([d5, d4], None)
    assert start.next_cursor is not None


async def test_a_stage_can_list_the_longest_waiting_first(crm: Crm, team: Team, clock: FixedClock) -> None:
    d1, d2, d3, d4, d5 = await _five_deals_entering_opportunity(crm, team, clock)
    _, first = await crm.deals.column(stage="opportunity", actor=team.alice, order=DealOrder.WAITING, limit=3)
    assert [d.id for d in first.items] == [d1, d2, d3]
    _, rest = await crm.deals.column(
        stage="opportunity", actor=team.alice, order=DealOrder.WAITING, limit=3, cursor=first.next_cursor
    )
    assert ([d.id for d in rest.items], rest.next_cursor) == ([d4, d5], None)
    _, back = await crm.deals.column(
        stage="opportunity",
        actor=team.alice,
        order=DealOrder.WAITING,
        limit=3,
        cursor=rest.prev_cursor,
        backwards=True,
    )
    assert [d.id for d in back.items] == [d1, d2, d3]


@pytest.mark.parametrize("order", list(DealOrder))
async def test_deals_that_entered_a_stage_at_the_same_moment_are_paged_without_gaps_or_repeats(
    crm: Crm, team: Team, order: DealOrder
) -> None:
    ids = [(await crm.deals.create(actor=team.alice, title=f"Deal {n}")).id for n in range(7)]
    seen, cursor = [], None
    while True:
        _, page = await crm.deals.column(
            stage="Unsorted", actor=team.alice, order=order, limit=3, cursor=cursor
        )
        seen += [d.id for d in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == ids
    assert len(seen) == len(set(seen))
    back: list[int] = []
    while page.prev_cursor is not None:
        _, page = await crm.deals.column(
            stage="Unsorted", actor=team.alice, order=order, limit=3, cursor=page.prev_cursor, backwards=True
        )
        back = [d.id for d in page.items] + back
    assert back + seen[-1:] == seen


async def test_a_forged_cursor_or_page_size_is_refused(crm: Crm, team: Team) -> None:
    with pytest.raises(InvalidInput):
        await crm.deals.column(stage="Opportunity", actor=team.alice, cursor="not-a-cursor")
    with pytest.raises(InvalidInput):
        await crm.deals.column(stage="Opportunity", actor=team.alice, limit=0)


async def test_the_board_counts_and_sums_each_stage(crm: Crm, team: Team) -> None:
    await crm.deals.create(actor=team.alice, title="A", amount="100.10")
    await crm.deals.create(actor=team.alice, title="B", amount="200.25")
    await crm.deals.create(actor=team.bob, title="C", amount="0.05", stage="Opportunity")
    await crm.deals.create(actor=team.bob, title="D", stage="Opportunity")  # no amount
    won = await crm.deals.create(actor=team.bob, title="E", amount="1000")
    await crm.deals.mark_won(deal_id=won.id, actor=team.bob)
    board = await crm.deals.board(actor=team.boss)
    columns = {c.stage.name: (c.count, c.amount) for c in board.columns}
    assert columns["Unsorted"] == (2, Decimal("300.35"))  # 100.10 + 200.25
    assert columns["Opportunity"] == (2, Decimal("0.05"))  # 0.05 + nothing
    assert columns["Won"] == (1, Decimal("1000.00"))
    assert columns["Execution"] == (0, Decimal("0.00"))
    assert [c.stage.name for c in board.columns][-2:] == ["Won", "Lost"]
    mine = {c.stage.name: (c.count, c.amount) for c in (await crm.deals.board(actor=team.alice)).columns}
    assert mine["Unsorted"] == (2, Decimal("300.35"))
    assert mine["Opportunity"] == (0, Decimal("0.00"))
    only_bob = await crm.deals.board(actor=team.boss, owner_telegram_id=team.bob.telegram_id)
    assert sum(c.count for c in only_bob.columns) == 3


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("+7 (495) 123-45-67", ["Moscow order"]),
        ("8 495 123 45 67", ["Moscow order"]),
        ("74951234567", ["Moscow order"]),
        ("4567", ["Moscow order"]),
        ("45-67", ["Moscow order"]),
        ("moscow ORDER", ["Moscow order"]),
        ("ёлки", ["Ёлки для офиса"]),
        ("ЕЛКИ", ["Ёлки для офиса"]),
        ("пётр", ["Ёлки для офиса"]),  # the contact's name
        ("احمد", ["طلب أحمد"]),  # typed without the hamza
        ("مُحَمَّد", ["Dubai"]),  # typed with diacritics
        ("50%", ["Discount 50% off"]),
        ("nothing like it", []),
    ],
)
async def test_deals_are_found_by_phone_in_any_form_title_or_contact_name(
    crm: Crm, team: Team, query: str, titles: list[str]
) -> None:
    await crm.deals.create(actor=team.alice, title="Moscow order", phone="8 495 123-45-67")
    await crm.deals.create(actor=team.alice, title="Ёлки для офиса", contact_name="Пётр")
    await crm.deals.create(actor=team.alice, title="طلب أحمد")
    await crm.deals.create(actor=team.alice, title="Dubai", contact_name="محمد")
    await crm.deals.create(actor=team.alice, title="Discount 50% off")
    await crm.deals.create(actor=team.alice, title="Discount 500 off")
    found = await crm.deals.find(query=query, actor=team.alice)
    assert [d.title for d in found] == titles


async def test_an_empty_search_is_refused(crm: Crm, team: Team) -> None:
    with pytest.raises(InvalidInput):
        await crm.deals.find(query="   ", actor=team.alice)


async def test_history_lists_every_change_oldest_first_with_who_made_it(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order", amount="10")
    for step in (
        lambda: crm.deals.move(deal_id=deal.id, to_stage="Opportunity", actor=team.alice),
        lambda: crm.deals.edit(deal_id=deal.id, field="amount", value="20", actor=team.alice),
        lambda: crm.deals.add_note(deal_id=deal.id, text="ok", actor=team.alice),
        lambda: crm.deals.reassign(deal_id=deal.id, owner_telegram_id=team.bob.telegram_id, actor=team.boss),
        lambda: crm.deals.mark_won(deal_id=deal.id, actor=team.bob),
    ):
        clock.advance(timedelta(minutes=5))
        await step()
    history = await crm.deals.history(deal_id=deal.id, actor=team.boss)
    assert [(e.kind, e.actor_name) for e in history] == [
        (EventKind.CREATED, "Alice"),
        (EventKind.MOVED, "Alice"),
        (EventKind.EDITED, "Alice"),
        (EventKind.NOTE, "Alice"),
        (EventKind.REASSIGNED, "Boss"),
        (EventKind.WON, "Bob"),
    ]
    assert [e.at for e in history] == sorted(e.at for e in history)
    newest = await crm.deals.history(deal_id=deal.id, actor=team.boss, newest_first=True, limit=1)
    assert [e.kind for e in newest] == [EventKind.WON]
