"""Reading captures: both formats; nothing a broken capture holds raises past the reader or the tracker."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_core.domain.calls import CallEvent
from telephony_bridge.ami import CallTracker, TrackerConfig, parse_capture, read_capture

from .helpers import DATA, own_captures, wire

CAPTURES = {path.name: path.read_bytes() for path in own_captures()}
EVENTS = {name: list(parse_capture(data)) for name, data in CAPTURES.items()}
ROBUST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def replay_all(events: list[dict[str, str]]) -> list[CallEvent]:
    tracker = CallTracker(TrackerConfig())
    return [call for event in events for call in tracker.feed(event)]


def test_wire_text_with_crlf_banner_and_login_answer_yields_only_the_events() -> None:
    events = list(read_capture(DATA / "answered_direct.txt"))
    assert events[0]["Event"] == "FullyBooted"
    assert events[1] == {**events[1], "Event": "Newchannel", "Channel": "PJSIP/sipnet-00000010"}
    assert all("Response" not in event for event in events)


def test_lf_and_crlf_wire_text_read_the_same() -> None:
    text = CAPTURES["answered_queue.txt"]
    assert list(parse_capture(text)) == list(parse_capture(text.replace(b"\n", b"\r\n")))


def test_json_events_ignore_the_content_key_and_keep_values_as_text() -> None:
    data = json.dumps([{"Event": "Hangup", "Cause": 16, "Uniqueid": "1.2", "content": "", "Extra": None}])
    assert list(parse_capture(data)) == [{"Event": "Hangup", "Cause": "16", "Uniqueid": "1.2", "Extra": ""}]


def test_a_truncated_json_capture_yields_the_events_before_the_cut() -> None:
    data = CAPTURES["attended_transfer.json"]
    events = list(parse_capture(data[: len(data) // 2]))
    assert 0 < len(events) < len(EVENTS["attended_transfer.json"])
    assert events == EVENTS["attended_transfer.json"][: len(events)]


def test_packets_without_an_event_and_lines_without_a_colon_are_skipped() -> None:
    text = b"Response: Success\r\nMessage: Pong\r\n\r\nnonsense\r\nEvent: Newstate\r\nUniqueid: 1.1\r\n\r\n"
    assert list(parse_capture(text)) == [{"Event": "Newstate", "Uniqueid": "1.1"}]


def test_bytes_that_are_not_utf8_are_replaced() -> None:
    [event] = parse_capture(b"Event: Newchannel\r\nCallerIDName: \xc0\xff Petrov\r\nUniqueid: 1.1\r\n\r\n")
    assert event["CallerIDName"] == "\ufffd\ufffd Petrov"


@ROBUST
@given(name=st.sampled_from(sorted(CAPTURES)), cut=st.integers(min_value=0), junk=st.binary(max_size=40))
def test_a_capture_cut_anywhere_and_followed_by_junk_never_raises(name: str, cut: int, junk: bytes) -> None:
    data = CAPTURES[name]
    calls = replay_all(list(parse_capture(data[: cut % (len(data) + 1)] + junk)))
    assert all(call.call_id for call in calls)


@ROBUST
@given(
    name=st.sampled_from(sorted(CAPTURES)),
    noise=st.lists(st.tuples(st.integers(min_value=0), st.binary(min_size=1, max_size=8)), max_size=12),
)
def test_a_capture_with_bytes_that_are_not_utf8_never_raises(
    name: str, noise: list[tuple[int, bytes]]
) -> None:
    data = bytearray(CAPTURES[name])
    for position, chunk in noise:
        data[position % len(data) : position % len(data)] = chunk + b"\xff\xfe\xc3"
    replay_all(list(parse_capture(bytes(data))))


@ROBUST
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    replay_all(list(parse_capture(data)))
    replay_all(list(parse_capture(b"[" + data)))


@ROBUST
@given(name=st.sampled_from(sorted(EVENTS)), seed=st.randoms(use_true_random=False))
def test_reordered_packets_never_raise_nor_end_a_call_twice(name: str, seed: object) -> None:
    events = list(EVENTS[name])
    seed.shuffle(events)  # type: ignore[attr-defined]
    finals = [call.call_id for call in replay_all(events) if call.is_final]
    assert len(finals) == len(set(finals))


@ROBUST
@given(name=st.sampled_from(sorted(EVENTS)), picks=st.lists(st.integers(min_value=0), max_size=30))
def test_duplicated_packets_change_nothing(name: str, picks: list[int]) -> None:
    events = EVENTS[name]
    twice = {pick % len(events) for pick in picks}
    doubled = [copy for index, event in enumerate(events) for copy in [event] * (2 if index in twice else 1)]
    assert replay_all(doubled) == replay_all(events)


@ROBUST
@given(name=st.sampled_from(sorted(EVENTS)), drops=st.sets(st.integers(min_value=0), max_size=20))
def test_lost_packets_never_raise_nor_end_a_call_twice(name: str, drops: set[int]) -> None:
    events = EVENTS[name]
    lost = {drop % len(events) for drop in drops}
    finals = [c.call_id for c in replay_all([e for i, e in enumerate(events) if i not in lost]) if c.is_final]
    assert len(finals) == len(set(finals))


@ROBUST
@given(
    name=st.sampled_from(sorted(EVENTS)),
    index=st.integers(min_value=0),
    key=st.sampled_from(
        ["Uniqueid", "Linkedid", "DestUniqueid", "BridgeUniqueid", "Timestamp", "ChannelState"]
    ),
    value=st.one_of(st.text(max_size=12), st.sampled_from(["", "nan", "inf", "-1", "1e400", "1716976800.1"])),
)
def test_garbled_fields_never_raise(name: str, index: int, key: str, value: str) -> None:
    events = [dict(event) for event in EVENTS[name]]
    events[index % len(events)][key] = value
    replay_all(events)


def test_a_json_capture_and_its_wire_form_read_alike() -> None:
    events = EVENTS["attended_transfer.json"]
    assert list(parse_capture(wire(events))) == events
