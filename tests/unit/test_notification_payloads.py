"""Notification payloads: each kind's typed payload reads the JSON the outbox has always kept, and
writes it back the same; any payload goes through its JSON and comes back equal."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, get_type_hints

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.domain.notifications import (
    PAYLOADS,
    BadPayload,
    CallFlood,
    CallMissed,
    ColleagueCalls,
    DealAssigned,
    Escalation,
    InviteUsed,
    MissedUnowned,
    MorningPlan,
    NoteKind,
    NotePayload,
    Progress,
    Shown,
    TaskDue,
    decode_payload,
    stored,
)
from crm_core.domain.users import Role

# What the producers queued before the payloads were typed, one or more per kind: rows like these may
# wait in the outbox through an upgrade.
TODAYS_JSON: list[tuple[str, dict[str, Any]]] = [
    (NoteKind.DEAL_ASSIGNED, {"deal_id": 7, "by_name": "Boss"}),
    (NoteKind.DEAL_ASSIGNED, {"deal_id": 7, "by_name": None}),
    (NoteKind.DEAL_ASSIGNED, {"count": 3, "from_name": "Bob"}),
    (NoteKind.DEAL_MOVED_ON_BOARD, {"deal_id": 7, "stage_id": 2, "stage_name": "Proposal"}),
    (NoteKind.WEB_LEAD, {"deal_id": 7, "form_name": "Website", "created": True}),
    (
        NoteKind.CALL_ANSWERED,
        {
            "call_id": 11,
            "caller": "+74951234567",
            "deal_id": 7,
            "created": True,
            "duration_s": None,
            "deal_title": "Acme",
            "owner_name": "Alice",
            "ended": False,
            "ask_who": True,
        },
    ),
    (
        NoteKind.CALL_ANSWERED,
        {
            "call_id": 12,
            "caller": "+74951234567",
            "deal_id": 7,
            "created": False,
            "duration_s": 65,
            "deal_title": "Acme",
            "owner_name": None,
            "ended": True,
        },
    ),
    (
        NoteKind.CALL_UNKNOWN,
        {
            "call_id": 13,
            "caller": "+74951234567",
            "deal_id": None,
            "created": False,
            "duration_s": None,
            "deal_title": None,
            "owner_name": None,
            "ended": False,
        },
    ),
    (
        NoteKind.CALL_MISSED,
        {
            "call_id": 14,
            "caller": "+74951234567",
            "deal_id": 7,
            "created": False,
            "duration_s": None,
            "deal_title": "Acme",
            "owner_name": "Alice",
            "ended": True,
            "task_id": 30,
            "calls": 2,
            "again": True,
        },
    ),
    (
        NoteKind.MISSED_UNOWNED,
        {
            "call_id": 15,
            "caller": "+74951234567",
            "deal_id": 8,
            "created": True,
            "duration_s": None,
            "deal_title": "+7 495 123-45-67",
            "owner_name": None,
            "ended": True,
            "task_id": None,
            "calls": 1,
            "again": False,
        },
    ),
    (
        NoteKind.CALL_ENDED,
        {
            "call_id": 16,
            "caller": "+74951234567",
            "deal_id": 7,
            "duration_s": 95,
            "ended": True,
            "ask_who": False,
        },
    ),
    (
        NoteKind.CALL_NOT_PLACED,
        {"request_id": 4, "deal_id": 7, "number": "+74951234567", "reason": "busy", "detail": None},
    ),
    (
        NoteKind.CALL_FLOOD,
        {
            "new_numbers": 12,
            "minutes": 4,
            "held": 3,
            "limit": 10,
            "window_minutes": 5,
            "since": "2026-03-02T09:00:00+00:00",
        },
    ),
    (
        NoteKind.COLLEAGUE_CALLS,
        {
            "spoke": [
                {"by_id": 2, "by_name": "Bob", "deal_id": 7, "title": "Acme", "returned": True},
                {"by_id": 3, "by_name": "Cem", "deal_id": 8, "title": "Initech", "returned": False},
            ]
        },
    ),
    (NoteKind.STALE_REMINDER, {"deal_ids": [7, 8]}),
    (
        NoteKind.ESCALATION,
        {"items": [{"deal_id": 7, "stale_since": "2026-03-01T09:00:00+00:00"}]},
    ),
    (NoteKind.TASK_DUE, {"task_id": 30}),
    (NoteKind.TASK_DUE, {"task_id": 30, "repeat": True}),
    (NoteKind.MORNING_PLAN, {"date": "2026-03-02"}),
    (
        NoteKind.MORNING_PLAN,
        {"date": "2026-03-02", "deal_ids": [7], "task_ids": [30, 31], "repeat_ids": [32]},
    ),
    (
        NoteKind.INVITE_USED,
        {"user_id": 5, "name": "Dana", "role": "seller", "extensions": ["101"], "taken": ["102"]},
    ),
    (
        NoteKind.DIGEST,
        {"since": "2026-03-01T18:00:00+00:00", "until": "2026-03-02T18:00:00+00:00", "weekly": True},
    ),
    (NoteKind.NUDGE, {"deal_id": 7, "by_name": "Boss"}),
]


def todays(kind: str) -> dict[str, Any]:
    return next(dict(data) for k, data in TODAYS_JSON if k == kind)


def test_every_kind_has_a_payload_and_todays_json_of_each() -> None:
    assert set(PAYLOADS) == {v for k, v in vars(NoteKind).items() if k.isupper()}
    assert {kind for kind, _ in TODAYS_JSON} == set(PAYLOADS)


@pytest.mark.parametrize(("kind", "data"), TODAYS_JSON, ids=[kind for kind, _ in TODAYS_JSON])
def test_a_note_queued_before_the_upgrade_reads_and_is_written_back_the_same(
    kind: str, data: dict[str, Any]
) -> None:
    payload = decode_payload(kind, data)
    assert kind == payload.KIND
    assert payload.to_json() == data


def test_the_fields_read_from_todays_json_are_typed() -> None:
    assigned = decode_payload(NoteKind.DEAL_ASSIGNED, {"count": 3, "from_name": "Bob"})
    assert assigned == DealAssigned(count=3, from_name="Bob")
    flood = decode_payload(NoteKind.CALL_FLOOD, todays(NoteKind.CALL_FLOOD))
    assert isinstance(flood, CallFlood) and flood.since == datetime(2026, 3, 2, 9, tzinfo=UTC)
    escalation = decode_payload(NoteKind.ESCALATION, {"items": [{"deal_id": 7, "stale_since": "2026-03-01"}]})
    assert isinstance(escalation, Escalation) and escalation.items[0].deal_id == 7
    plan = decode_payload(NoteKind.MORNING_PLAN, {"date": "2026-03-02", "task_ids": [30]})
    assert plan == MorningPlan(day=date(2026, 3, 2), task_ids=(30,))
    invite = decode_payload(NoteKind.INVITE_USED, todays(NoteKind.INVITE_USED))
    assert isinstance(invite, InviteUsed) and invite.role is Role.SELLER and invite.extensions == ("101",)
    spoke = decode_payload(NoteKind.COLLEAGUE_CALLS, todays(NoteKind.COLLEAGUE_CALLS))
    assert isinstance(spoke, ColleagueCalls) and [line.returned for line in spoke.spoke] == [True, False]


def test_a_missed_call_noted_before_calls_were_counted_stands_for_one_call() -> None:
    old = {"call_id": 1, "caller": "+74951234567", "deal_id": None, "task_id": None}
    missed = decode_payload(NoteKind.CALL_MISSED, old)
    assert isinstance(missed, CallMissed)
    assert (missed.calls, missed.again, missed.ended, missed.ask_who) == (1, False, False, None)


def test_a_missed_call_told_to_the_bosses_says_the_same() -> None:
    missed = CallMissed(call_id=1, caller="+74951234567", deal_id=3, task_id=4, calls=2, again=True)
    unowned = missed.unowned()
    assert isinstance(unowned, MissedUnowned)
    assert unowned.to_json() == missed.to_json()


def test_the_delivery_progress_kept_beside_a_payload_is_not_part_of_it() -> None:
    task = TaskDue(task_id=30)
    row = stored(task, Progress(1, Shown(chat_id=42, message_id=7)))
    assert row == {"task_id": 30, "_parts_sent": 1, "_shown_in": [42, 7]}
    assert decode_payload(NoteKind.TASK_DUE, row) == task
    assert Progress.from_json(row) == Progress(1, Shown(42, 7))
    assert Progress.from_json(task.to_json()) == Progress()
    assert stored(task, Progress()) == stored(task) == {"task_id": 30}


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("no_such_kind", {}),
        (NoteKind.TASK_DUE, {}),
        (NoteKind.TASK_DUE, {"task_id": "thirty"}),
        (NoteKind.STALE_REMINDER, {"deal_ids": 7}),
        (NoteKind.DIGEST, {"since": "yesterday", "until": "2026-03-02T18:00:00+00:00"}),
    ],
)
def test_a_row_no_payload_can_be_read_from_is_refused_as_such(kind: str, data: dict[str, Any]) -> None:
    with pytest.raises(BadPayload):
        decode_payload(kind, data)


# -- any payload, through its JSON and back --------------------------------------------------------

MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5, minutes=-30))]
    ),
)


def _strategy(hint: Any) -> st.SearchStrategy[Any]:
    if hint is datetime:
        return MOMENTS
    if hint is date:
        return st.dates()
    return st.from_type(hint)


def payloads(kind: type[NotePayload]) -> st.SearchStrategy[NotePayload]:
    """Any payload of ``kind``, every field drawn (the defaulted ones too)."""
    names = st.none() | st.text()
    if kind is DealAssigned:  # one deal given, or several handed over
        return st.builds(DealAssigned, deal_id=st.integers(), by_name=names) | st.builds(
            DealAssigned, count=st.integers(), from_name=names
        )
    hints = get_type_hints(kind)
    return st.builds(kind, **{f.name: _strategy(hints[f.name]) for f in fields(kind)})


@pytest.mark.parametrize("kind", list(PAYLOADS.values()), ids=list(PAYLOADS))
@settings(max_examples=100)
@given(data=st.data())
def test_any_payload_comes_back_equal_through_its_json(kind: type[NotePayload], data: st.DataObject) -> None:
    payload = data.draw(payloads(kind))
    text = json.dumps(payload.to_json())
    assert decode_payload(kind.KIND, json.loads(text)) == payload
