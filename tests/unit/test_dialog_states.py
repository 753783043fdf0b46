"""Dialog states: each flow's typed state reads the JSON its dialogs have always kept, and any state
goes through its JSON and comes back equal."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_type_hints

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.dialogs import (
    DIALOG_STATES,
    AskedIn,
    CardQuestion,
    DeactivateQuestion,
    EditQuestion,
    ExtensionsQuestion,
    FindQuestion,
    InviteDraft,
    LostQuestion,
    NewDealDraft,
    NoteQuestion,
    ReminderDraft,
    RequiredQuestion,
    SnoozeDraft,
    TargetQuestion,
    ZoneQuestion,
)
from crm_core.domain.conversations import Dialog, DialogState, WhoIsCalling
from crm_core.domain.tasks import TaskKind

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)

# What the flows stored before their states were typed: dialogs like these may be open through an upgrade.
TODAYS_JSON: list[tuple[DialogState, dict[str, Any]]] = [
    (WhoIsCalling(deal_id=7), {"deal_id": 7}),
    (NoteQuestion(deal_id=7, message_id=40), {"deal_id": 7, "message_id": 40}),
    (LostQuestion(deal_id=7, version=3, message_id=40), {"deal_id": 7, "version": 3, "message_id": 40}),
    (
        EditQuestion(deal_id=7, version=3, field="contact", message_id=40),
        {"deal_id": 7, "version": 3, "field": "contact", "message_id": 40},
    ),
    (
        EditQuestion(deal_id=7, version=3, field="contact", message_id=40, value="Ann"),
        {"deal_id": 7, "version": 3, "field": "contact", "message_id": 40, "value": "Ann"},
    ),
    (
        RequiredQuestion(deal_id=7, stage_id=3, key="city", message_id=40),
        {"deal_id": 7, "stage_id": 3, "key": "city", "message_id": 40},
    ),
    (
        ReminderDraft(deal_id=7, version=3, kind=TaskKind.CALL, words="", message_id=40),
        {"deal_id": 7, "version": 3, "kind": "call", "words": "", "message_id": 40},
    ),
    (
        ReminderDraft(deal_id=7, kind=TaskKind.OTHER, words="the invoice", message_id=40),
        {"deal_id": 7, "message_id": 40, "kind": "other", "words": "the invoice"},
    ),
    (
        SnoozeDraft(deal_id=7, version=3, message_id=40, until=datetime(2026, 3, 9, 9, tzinfo=UTC)),
        {"deal_id": 7, "version": 3, "message_id": 40, "until": "2026-03-09T09:00:00+00:00"},
    ),
    (SnoozeDraft(deal_id=7, version=3, message_id=40), {"deal_id": 7, "version": 3, "message_id": 40}),
    (FindQuestion(), {}),
    (NewDealDraft(), {}),
    (NewDealDraft(title="ACME", phone="+74951234567"), {"title": "ACME", "phone": "+74951234567"}),
    (
        NewDealDraft(title="ACME", contact="Ann", phone="+74951234567", amount="1500.50"),
        {"title": "ACME", "contact": "Ann", "phone": "+74951234567", "amount": "1500.50"},
    ),
    (ExtensionsQuestion(user_id=5, message_id=40), {"user_id": 5, "message_id": 40}),
    (DeactivateQuestion(user_id=5), {"user_id": 5}),
    (InviteDraft(extensions=("101", "102")), {"extensions": ["101", "102"]}),
    (InviteDraft(), {"extensions": []}),
    (ZoneQuestion(user_id=5, where="s", message_id=40), {"user_id": 5, "where": "s", "message_id": 40}),
    (
        TargetQuestion(user_id=5, month="2026-12", amount="500000.00"),
        {"user_id": 5, "month": "2026-12", "amount": "500000.00"},
    ),
]


def test_every_flow_has_todays_json() -> None:
    assert {type(state) for state, _ in TODAYS_JSON} == set(DIALOG_STATES)
    assert len({kind.FLOW for kind in DIALOG_STATES}) == len(DIALOG_STATES)


@pytest.mark.parametrize(("state", "data"), TODAYS_JSON, ids=[type(s).__name__ for s, _ in TODAYS_JSON])
def test_a_dialog_stored_before_the_upgrade_reads_as_its_state_and_is_written_back_the_same(
    state: DialogState, data: dict[str, Any]
) -> None:
    dialog = Dialog(1, state.FLOW, "answer", data, AT)
    assert dialog.state(type(state)) == state
    assert state.to_json() == data


def test_a_dialog_stored_with_none_where_nothing_was_given_yet_reads_the_same() -> None:
    stored = {"deal_id": 7, "message_id": None, "kind": "other", "words": ""}
    assert ReminderDraft.from_json(stored) == ReminderDraft(deal_id=7)


def test_any_dialog_tells_where_its_question_was_asked_and_a_card_question_its_deal() -> None:
    new_deal = Dialog.of(1, NewDealDraft(title="ACME"), step="contact", at=AT, draft=5)
    assert new_deal.state(AskedIn).message_id is None
    snooze = Dialog.of(1, SnoozeDraft(deal_id=7, version=3, message_id=40), step="date", at=AT, draft=5)
    assert snooze.state(AskedIn).message_id == 40
    assert snooze.state(CardQuestion).deal_id == 7


def test_a_dialog_is_not_read_as_the_state_of_another_flow() -> None:
    dialog = Dialog.of(1, NoteQuestion(deal_id=7), step="answer", at=AT, draft=5)
    with pytest.raises(ValueError, match="note"):
        dialog.state(LostQuestion)


MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5, minutes=-30))]
    ),
)


def states(kind: type[DialogState]) -> st.SearchStrategy[DialogState]:
    """Any state of ``kind``, every field drawn (the defaulted ones too)."""
    hints = get_type_hints(kind)

    def drawn(hint: Any) -> st.SearchStrategy[Any]:
        if hint == datetime | None:
            return st.none() | MOMENTS
        return st.from_type(hint)

    return st.builds(kind, **{f.name: drawn(hints[f.name]) for f in fields(kind)})


@pytest.mark.parametrize("kind", DIALOG_STATES, ids=[kind.__name__ for kind in DIALOG_STATES])
@settings(max_examples=100)
@given(data=st.data())
def test_any_state_comes_back_equal_through_its_json(kind: type[DialogState], data: st.DataObject) -> None:
    state = data.draw(states(kind))
    stored = json.loads(json.dumps(state.to_json()))
    assert Dialog(1, kind.FLOW, "answer", stored, AT).state(kind) == state
