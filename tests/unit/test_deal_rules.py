"""What a deal allows by itself: moving, closing, reopening, reassigning, editing, snoozing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from crm_core.domain.deals import Deal, Priority
from crm_core.domain.errors import DealClosed, InvalidInput, ReopensElsewhere
from crm_core.domain.funnel import DEFAULT_FUNNEL, Pipeline, Stage, StageKind
from crm_core.domain.history import Actor, EventKind
from crm_core.domain.users import Role, User

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALICE = User(1, 1001, "Alice", Role.SELLER)
BOB = User(2, 1002, "Bob", Role.SELLER)
BOSS = Actor.of(User(3, 1003, "Boss", Role.BOSS))
PIPELINE = Pipeline(
    1,
    "Sales",
    True,
    tuple(
        Stage(i, 1, s.name, i, s.kind, s.follow_up_after, s.playbook, s.probability)
        for i, s in enumerate(DEFAULT_FUNNEL, start=1)
    ),
)
LATER = T0 + timedelta(hours=1)


def a_deal(stage: str = "Opportunity") -> Deal:
    return Deal(
        id=7,
        pipeline_id=1,
        title="ACME order",
        stage=PIPELINE.find(stage),
        currency="RUB",
        created_at=T0,
        stage_entered_at=T0,
        last_activity_at=T0,
        amount=Decimal("1500.50"),
        owner=ALICE,
    )


def test_moving_to_an_open_stage_records_where_from_and_where_to() -> None:
    deal = a_deal()
    event = deal.move_to(PIPELINE.find("Commercial offer"), at=LATER, actor=Actor.of(ALICE))
    assert (event.kind, event.from_stage_id, event.to_stage_id) == (EventKind.MOVED, 2, 3)
    assert event.actor_id == ALICE.id
    assert (deal.stage.name, deal.stage_entered_at, deal.last_activity_at) == (
        "Commercial offer",
        LATER,
        LATER,
    )
    assert deal.closed_at is None


def test_winning_closes_the_deal_and_remembers_its_amount() -> None:
    deal = a_deal()
    event = deal.move_to(PIPELINE.won, at=LATER, actor=Actor.of(ALICE))
    assert event.kind is EventKind.WON
    assert event.data["amount"] == "1500.50"
    assert deal.is_closed
    assert deal.closed_at == LATER


def test_losing_needs_a_reason_and_keeps_it() -> None:
    deal = a_deal()
    event = deal.move_to(PIPELINE.lost, at=LATER, actor=Actor.of(ALICE), lost_reason="  Price ")
    assert event.kind is EventKind.LOST
    assert event.data["reason"] == "Price"
    assert (deal.lost_reason, deal.closed_at) == ("Price", LATER)


@pytest.mark.parametrize("reason", [None, "", "   ", "x" * 201])
def test_losing_without_a_sensible_reason_is_refused_and_changes_nothing(reason: str | None) -> None:
    deal = a_deal()
    with pytest.raises(InvalidInput):
        deal.move_to(PIPELINE.lost, at=LATER, actor=Actor.of(ALICE), lost_reason=reason)
    assert deal == a_deal()


@pytest.mark.parametrize("closed", ["Won", "Lost"])
def test_a_closed_deal_reopens_in_the_stage_it_was_closed_from(closed: str) -> None:
    deal = a_deal("Commercial offer")
    deal.move_to(PIPELINE.find(closed), at=LATER, actor=Actor.of(ALICE), lost_reason="Price")
    assert deal.reopen_stage(PIPELINE).name == "Commercial offer"
    event = deal.reopen(PIPELINE, at=LATER + timedelta(days=2), actor=BOSS)
    assert (event.kind, event.from_stage_id, event.to_stage_id) == (
        EventKind.REOPENED,
        7 if closed == "Won" else 8,
        3,
    )
    assert event.actor_id == 3
    assert (deal.stage.name, deal.closed_at, deal.lost_reason, deal.is_closed) == (
        "Commercial offer",
        None,
        None,
        False,
    )
    # two days after the close it is a new start in the stage
    assert deal.stage_entered_at == deal.last_activity_at == LATER + timedelta(days=2)


@pytest.mark.parametrize("closed", ["Won", "Lost"])
def test_a_closed_deal_leaves_only_by_reopening_where_it_was_closed(closed: str) -> None:
    deal = a_deal("Unsorted")
    deal.move_to(PIPELINE.find(closed), at=LATER, actor=Actor.of(ALICE), lost_reason="Price")
    closed_deal = replace(deal)
    with pytest.raises(DealClosed):
        deal.move_to(PIPELINE.find("Execution"), at=LATER, actor=Actor.of(ALICE))
    with pytest.raises(ReopensElsewhere) as refused:
        deal.reopen(PIPELINE, into=PIPELINE.find("Execution"), at=LATER, actor=Actor.of(ALICE))
    assert refused.value.stage == "Unsorted"
    assert deal == closed_deal
    event = deal.reopen(PIPELINE, into=PIPELINE.find("Unsorted"), at=LATER, actor=Actor.of(ALICE))
    assert (event.kind, deal.stage.name) == (EventKind.REOPENED, "Unsorted")


def test_an_open_deal_cannot_be_reopened() -> None:
    deal = a_deal()
    with pytest.raises(InvalidInput):
        deal.reopen(PIPELINE, at=LATER, actor=Actor.of(ALICE))
    assert deal == a_deal()


def test_a_deal_closed_from_a_stage_no_longer_in_the_funnel_reopens_in_the_inbox() -> None:
    deal = a_deal()
    deal.move_to(PIPELINE.lost, at=LATER, actor=Actor.of(ALICE), lost_reason="Price")
    deal.closed_from_stage_id = 99
    assert deal.reopen_stage(PIPELINE).name == "Unsorted"
    deal.closed_from_stage_id = None  # imported closed: where it was closed from is not known
    assert deal.reopen_stage(PIPELINE).name == "Unsorted"


@pytest.mark.parametrize(("closed", "other"), [("Won", "Lost"), ("Lost", "Won")])
def test_a_closed_deal_cannot_jump_to_another_closed_stage(closed: str, other: str) -> None:
    deal = a_deal()
    deal.move_to(PIPELINE.find(closed), at=LATER, actor=Actor.of(ALICE), lost_reason="Price")
    with pytest.raises(DealClosed):
        deal.move_to(PIPELINE.find(other), at=LATER, actor=Actor.of(ALICE), lost_reason="Price")
    assert deal.stage.name == closed


def test_a_deal_cannot_move_to_the_stage_it_is_in_or_to_another_pipelines_stage() -> None:
    deal = a_deal()
    with pytest.raises(InvalidInput):
        deal.move_to(PIPELINE.find("Opportunity"), at=LATER, actor=Actor.of(ALICE))
    with pytest.raises(InvalidInput):
        deal.move_to(Stage(99, 2, "Elsewhere", 1, StageKind.OPEN), at=LATER, actor=Actor.of(ALICE))
    assert deal == a_deal()


def test_moving_ends_a_snooze() -> None:
    deal = a_deal()
    deal.snooze(T0 + timedelta(days=2), at=T0, actor=Actor.of(ALICE))
    deal.move_to(PIPELINE.find("Commercial offer"), at=LATER, actor=Actor.of(ALICE))
    assert deal.snoozed_until is None


def test_reassigning_records_both_owners_and_the_system_can_be_the_actor() -> None:
    deal = a_deal()
    event = deal.reassign(BOB, at=LATER, actor=Actor.system_because("call asterisk:1"))
    assert event.kind is EventKind.REASSIGNED
    assert event.data == {"from_owner": 1, "to_owner": 2, "to_owner_name": "Bob"}
    assert (event.actor_id, event.actor_system) == (None, "call asterisk:1")
    assert deal.owner == BOB


def test_a_deal_cannot_be_given_to_its_owner_or_to_someone_deactivated() -> None:
    deal = a_deal()
    with pytest.raises(InvalidInput):
        deal.reassign(ALICE, at=LATER, actor=BOSS)
    with pytest.raises(InvalidInput):
        deal.reassign(User(4, 1004, "Gone", Role.SELLER, active=False), at=LATER, actor=BOSS)
    assert deal.owner == ALICE


def test_editing_records_the_old_and_the_new_value_and_refuses_no_change() -> None:
    deal = a_deal()
    event = deal.edit("amount", Decimal("2000.00"), at=LATER, actor=Actor.of(ALICE))
    assert event.data == {"field": "amount", "old": "1500.50", "new": "2000.00"}
    assert deal.last_activity_at == LATER
    with pytest.raises(InvalidInput):
        deal.edit("amount", Decimal("2000.00"), at=LATER, actor=Actor.of(ALICE))


def test_priority_changes_are_recorded_and_a_same_priority_is_refused() -> None:
    deal = a_deal()
    event = deal.set_priority(Priority.HIGH, at=LATER, actor=Actor.of(ALICE))
    assert event.data == {"old": "normal", "new": "high"}
    with pytest.raises(InvalidInput):
        deal.set_priority(Priority.HIGH, at=LATER, actor=Actor.of(ALICE))


def test_a_deal_is_snoozed_only_into_the_future_and_only_while_open() -> None:
    deal = a_deal()
    with pytest.raises(InvalidInput):
        deal.snooze(T0, at=T0, actor=Actor.of(ALICE))
    event = deal.snooze(T0 + timedelta(days=1), at=T0, actor=Actor.of(ALICE), reason="on holiday")
    assert event.data == {"until": (T0 + timedelta(days=1)).isoformat(), "reason": "on holiday"}
    deal.move_to(PIPELINE.won, at=LATER, actor=Actor.of(ALICE))
    with pytest.raises(DealClosed):
        deal.snooze(T0 + timedelta(days=3), at=LATER, actor=Actor.of(ALICE))


def test_activity_never_moves_back_in_time() -> None:
    deal = a_deal()
    deal.touch(LATER)
    deal.touch(T0)
    assert deal.last_activity_at == LATER


def test_a_deal_lost_for_other_reasons_keeps_the_reason_and_the_sellers_words_apart() -> None:
    deal = a_deal()
    event = deal.move_to(
        PIPELINE.lost, at=LATER, actor=Actor.of(ALICE), lost_reason="Other", lost_note="  went   quiet "
    )
    assert (deal.lost_reason, deal.lost_note, deal.lost_reason_text) == (
        "Other",
        "went quiet",
        "Other: went quiet",
    )
    assert (event.data["reason"], event.data["note"]) == ("Other", "went quiet")
    deal.reopen(PIPELINE, at=LATER + timedelta(days=2), actor=Actor.of(ALICE))
    assert (deal.lost_reason, deal.lost_note) == (None, None)
