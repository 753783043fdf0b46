"""Replayed AMI sessions give the calls a CRM should see: our captures exactly, real ones as noted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crm_core.domain.calls import CallDirection, CallStatus
from telephony_bridge.ami import CallTracker, TrackerConfig, parse_capture, read_capture, replay, replay_file

from .helpers import SHARED_CAPTURES, expected_for, own_captures, wire

OWN = own_captures()


@pytest.mark.parametrize("capture", OWN, ids=[path.stem for path in OWN])
def test_each_own_capture_gives_exactly_its_expected_calls(capture: Path) -> None:
    tracker = CallTracker(TrackerConfig())
    published = [call.to_json() for event in read_capture(capture) for call in tracker.feed(event)]
    assert published == expected_for(capture)
    assert tracker.in_flight == 0


def test_the_own_captures_cover_every_scenario_of_the_brief() -> None:
    names = {path.stem for path in OWN}
    assert names >= {
        "answered_direct",
        "answered_queue",
        "answered_ringall",
        "missed_queue_abandon",
        "missed_ringgroup_noanswer",
        "missed_hangup_before_ring",
        "forward_mobile_not_accepted",
        "blind_transfer",
        "attended_transfer",
        "internal_call",
        "outbound_call",
    }
    assert {path.suffix for path in OWN} == {".txt", ".json"}  # both capture formats are exercised


def test_replay_returns_only_the_final_calls_in_the_order_they_ended() -> None:
    events = [event for path in OWN for event in read_capture(path)]
    finals = replay(events, TrackerConfig())
    expected = [call for path in OWN for call in expected_for(path) if call["ended_at"] is not None]
    assert [call.to_json() for call in finals] == expected


def test_a_call_still_going_on_when_the_capture_stops_is_not_reported() -> None:
    events = list(read_capture(Path(OWN[0].parent / "answered_direct.txt")))
    cut = next(i for i, event in enumerate(events) if event["Event"] == "BridgeLeave")
    assert replay(events[:cut], TrackerConfig()) == []


# -- the real sessions recorded on a production Asterisk (VoIPGRID, via cacofonisk) ------------------------

VOIPGRID = TrackerConfig(
    inbound_contexts=frozenset({"voipgrid_in"}), trunk_pattern=r"^SIP/voipgrid-siproute-docker-", region="NL"
)
REAL = {
    # name: (direction, status, caller, answering extension), as each capture's note says
    "ami_queue_inbound_answered": (CallDirection.INBOUND, CallStatus.ANSWERED, "+31150010001", "150010002"),
    "ami_queue_ringall_answered": (CallDirection.INBOUND, CallStatus.ANSWERED, "+31150010001", "150010002"),
    "ami_queue_caller_abandon": (CallDirection.INBOUND, CallStatus.MISSED, "+31150010001", None),
    "ami_queue_blind_transfer": (CallDirection.INBOUND, CallStatus.ANSWERED, "+31260010001", "150010001"),
    "ami_internal_caller_cancel": (CallDirection.INTERNAL, CallStatus.MISSED, None, None),
}
needs_real_captures = pytest.mark.skipif(
    not SHARED_CAPTURES.is_dir(), reason=f"the real captures are not here ({SHARED_CAPTURES})"
)


@needs_real_captures
@pytest.mark.parametrize("name", sorted(REAL))
def test_each_real_capture_gives_one_call_with_the_outcome_its_note_expects(name: str) -> None:
    direction, status, caller, answered_by = REAL[name]
    [call] = replay_file(SHARED_CAPTURES / f"{name}.json", VOIPGRID)
    assert (call.direction, call.status, call.caller, call.answered_by) == (
        direction,
        status,
        caller,
        answered_by,
    )


@needs_real_captures
def test_the_real_ring_group_loser_and_busy_member_do_not_make_the_call_missed() -> None:
    [group] = replay_file(SHARED_CAPTURES / "ami_queue_ringall_answered.json", VOIPGRID)
    [queue] = replay_file(SHARED_CAPTURES / "ami_queue_inbound_answered.json", VOIPGRID)
    assert set(group.rang) == set(queue.rang) == {"150010002", "150010003"}
    assert group.status == queue.status == CallStatus.ANSWERED


@needs_real_captures
def test_the_real_blind_transfer_keeps_the_first_answerer_and_records_the_transfer() -> None:
    [call] = replay_file(SHARED_CAPTURES / "ami_queue_blind_transfer.json", VOIPGRID)
    assert call.call_id == "f29ea68048f6-1530023464.2539"
    assert call.answered_by == "150010001"
    assert call.transfers == ("150010002",)


@needs_real_captures
def test_the_real_queue_abandon_shows_the_only_phone_that_rang() -> None:
    [call] = replay_file(SHARED_CAPTURES / "ami_queue_caller_abandon.json", VOIPGRID)
    assert call.rang == ("150010002",)
    assert call.dialed == "+31150010004"


@needs_real_captures
@pytest.mark.parametrize("name", sorted(REAL))
def test_a_real_capture_replayed_as_wire_text_gives_the_same_call(name: str) -> None:
    events = json.loads((SHARED_CAPTURES / f"{name}.json").read_text())
    from_wire = replay(parse_capture(b"Asterisk Call Manager/2.10.3\r\n" + wire(events)), VOIPGRID)
    assert from_wire == replay_file(SHARED_CAPTURES / f"{name}.json", VOIPGRID)


@needs_real_captures
def test_a_real_capture_reads_right_even_with_the_default_configuration() -> None:
    # The trunk's name is not a phone's, so the call is inbound anyway; the configuration is what makes
    # a PBX whose trunks look like phones (digits only) readable, as the tracker tests show.
    [call] = replay_file(SHARED_CAPTURES / "ami_queue_inbound_answered.json", TrackerConfig(region="NL"))
    assert (call.direction, call.answered_by) == (CallDirection.INBOUND, "150010002")
