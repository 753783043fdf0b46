"""The call tracker's rules, one at a time: publication, memory, time, channel names, configuration."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pytest

from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from telephony_bridge.ami import CallTracker, TrackerConfig, read_capture
from telephony_bridge.ami.config import ChannelKind

from .helpers import DATA


def events_of(name: str) -> list[dict[str, str]]:
    return list(read_capture(DATA / name))


def feed(tracker: CallTracker, events: Iterable[dict[str, str]]) -> list[CallEvent]:
    return [call for event in events for call in tracker.feed(event)]


def test_an_answered_call_is_published_in_progress_then_final_under_the_same_call_id() -> None:
    progress, final = feed(CallTracker(), events_of("answered_direct.txt"))
    assert progress.call_id == final.call_id
    assert (progress.ended_at, progress.status, progress.answered_by) == (None, CallStatus.ANSWERED, "201")
    assert final.is_final
    assert final.duration_s == 95


def test_a_missed_call_is_published_once_when_the_caller_hangs_up() -> None:
    [call] = feed(CallTracker(), events_of("missed_queue_abandon.txt"))
    assert call.is_final
    assert call.status == CallStatus.MISSED
    assert call.answered_by is None


def test_a_colleagues_call_gets_no_pop_up_card_only_its_final() -> None:
    [call] = feed(CallTracker(), events_of("internal_call.txt"))
    assert call.direction == CallDirection.INTERNAL
    assert call.is_final


def test_a_session_replayed_twice_reports_each_call_once() -> None:
    tracker = CallTracker()
    events = events_of("blind_transfer.txt")
    assert len(feed(tracker, events)) == 2
    assert feed(tracker, events) == []


def test_events_after_the_caller_hung_up_start_no_new_call() -> None:
    tracker = CallTracker()
    events = events_of("internal_call.txt")  # 202 leaves the bridge and hangs up after 201 hung up
    feed(tracker, events)
    assert tracker.in_flight == 0


def test_a_call_whose_hang_up_was_lost_is_evicted_after_the_configured_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tracker = CallTracker(TrackerConfig(stale_after_s=3600))
    events = [event for event in events_of("answered_direct.txt") if event["Event"] != "Hangup"]
    [progress] = feed(tracker, events)
    last_seen = max(float(event["Timestamp"]) for event in events if event["Event"] == "BridgeEnter")
    assert tracker.evict_stale(now=last_seen + 3599) == []
    with caplog.at_level(logging.WARNING, logger="telephony_bridge.ami"):
        [closed] = tracker.evict_stale(now=last_seen + 3601)
    assert (closed.call_id, closed.status, closed.answered_by) == (
        progress.call_id,
        CallStatus.ANSWERED,
        "201",
    )
    assert closed.ended_at is not None
    assert closed.ended_at.timestamp() == pytest.approx(last_seen)
    assert tracker.in_flight == 0
    assert "evicted call 1716976800.101" in caplog.text
    assert "*******2233" in caplog.text
    assert "79161112233" not in caplog.text


def test_calls_in_flight_can_be_closed_from_what_was_seen() -> None:
    tracker = CallTracker()
    answered = [event for event in events_of("answered_ringall.json") if event["Event"] != "Hangup"]
    ringing = events_of("missed_queue_abandon.txt")[:30]
    feed(tracker, answered + ringing)
    closed = {call.caller: call for call in tracker.close_all(ended_at=1716980000.0)}
    assert closed["+74957654321"].status == CallStatus.ANSWERED
    assert closed["+79163334455"].status == CallStatus.MISSED
    assert tracker.in_flight == 0


def test_without_timestamps_times_come_from_the_uniqueids() -> None:
    events = [
        {k: v for k, v in event.items() if k != "Timestamp"} for event in events_of("answered_direct.txt")
    ]
    [*_, final] = feed(CallTracker(), events)
    assert final.started_at.timestamp() == 1716976800  # Uniqueid 1716976800.101


def test_a_clock_dates_the_events_that_have_no_timestamp() -> None:
    moments = iter(range(1_800_000_000, 1_800_001_000))
    events = [
        {k: v for k, v in event.items() if k != "Timestamp"} for event in events_of("answered_direct.txt")
    ]
    [*_, final] = feed(CallTracker(clock=lambda: float(next(moments))), events)
    assert final.started_at.timestamp() >= 1_800_000_000


def test_a_malformed_event_is_skipped_without_raising(caplog: pytest.LogCaptureFixture) -> None:
    tracker = CallTracker()
    with caplog.at_level(logging.WARNING, logger="telephony_bridge.ami"):
        assert tracker.feed({"Event": "Newchannel", "Channel": "PJSIP/201-00000001"}) == ()
    assert "skipped a malformed Newchannel event" in caplog.text


@pytest.mark.parametrize(
    ("name", "kind", "ext"),
    [
        ("SIP/202-0000001a", ChannelKind.ENDPOINT, "202"),
        ("PJSIP/202-00000003", ChannelKind.ENDPOINT, "202"),
        ("SIP/150010002-00000026", ChannelKind.ENDPOINT, "150010002"),
        ("IAX2/2001-8191", ChannelKind.ENDPOINT, "2001"),
        ("Local/202@from-queue-00000004;1", ChannelKind.LOCAL, "202"),
        ("Local/ID730151@osvpi_route_phoneaccount-00000016;2", ChannelKind.LOCAL, None),
        ("PJSIP/sipnet-00000010", ChannelKind.EXTERNAL, None),
        ("SIP/voipgrid-siproute-docker-00000025", ChannelKind.EXTERNAL, None),
        ("PJSIP/trunk-5000-0000001f", ChannelKind.EXTERNAL, None),
        ("DAHDI/1-1", ChannelKind.EXTERNAL, None),
        ("Announcer/ARI_MOH-00000001;1", ChannelKind.LOCAL, None),
        ("CBAnn/1001-00000002;2", ChannelKind.LOCAL, None),
    ],
)
def test_channel_names_tell_phones_from_local_halves_and_trunks(
    name: str, kind: ChannelKind, ext: str | None
) -> None:
    assert TrackerConfig().classifier().classify(name) == (kind, ext)


def test_a_trunk_named_like_a_phone_needs_the_trunk_pattern() -> None:
    name = "PJSIP/5000-0000000a"  # a provider account named by its number
    assert TrackerConfig().classifier().classify(name) == (ChannelKind.ENDPOINT, "5000")
    assert TrackerConfig(trunk_pattern=r"^PJSIP/5000-").classifier().classify(name) == (
        ChannelKind.EXTERNAL,
        None,
    )


def provider_named_like_a_phone() -> list[dict[str, str]]:
    """``answered_direct`` on a PBX whose trunk is ``PJSIP/5000`` and whose inbound context is custom."""
    renamed = []
    for event in events_of("answered_direct.txt"):
        renamed.append(
            {
                key: value.replace("PJSIP/sipnet-", "PJSIP/5000-").replace("from-pstn", "from-provider")
                for key, value in event.items()
            }
        )
    return renamed


def test_the_inbound_contexts_are_configurable() -> None:
    [*_, as_default] = feed(CallTracker(), provider_named_like_a_phone())
    custom = TrackerConfig(inbound_contexts=frozenset({"from-provider"}))
    [*_, as_configured] = feed(CallTracker(custom), provider_named_like_a_phone())
    assert as_default.direction == CallDirection.INTERNAL  # 5000 "calling" 201, as far as names go
    assert as_configured.direction == CallDirection.INBOUND
    assert (as_configured.caller, as_configured.answered_by) == ("+79161112233", "201")


def test_the_extension_pattern_is_configurable() -> None:
    config = TrackerConfig(extension_pattern=r"^PJSIP/(?P<ext>[a-z]+)-")
    assert config.classifier().classify("PJSIP/alice-00000001") == (ChannelKind.ENDPOINT, "alice")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"extension_pattern": "("}, "invalid extension pattern"),
        ({"trunk_pattern": "[a-"}, "invalid trunk pattern"),
        ({"extension_pattern": r"^SIP/\d+"}, "needs a group"),
        ({"stale_after_s": 0}, "must be positive"),
    ],
)
def test_a_bad_configuration_is_refused_with_a_clear_message(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        TrackerConfig(**options)  # type: ignore[arg-type]


def test_an_outbound_call_is_answered_by_the_seller_who_placed_it() -> None:
    progress, final = feed(CallTracker(), events_of("outbound_call.json"))
    assert (final.direction, final.answered_by, final.dialed) == (
        CallDirection.OUTBOUND,
        "202",
        "+79031234567",
    )
    assert final.caller is None  # the company's presented number is not a customer's
    assert progress.ended_at is None


def test_the_consultation_call_of_an_attended_transfer_is_not_a_call_of_its_own() -> None:
    published = feed(CallTracker(), events_of("attended_transfer.json"))
    assert {call.call_id for call in published} == {"1716981600.901"}
