"""The live path: panoramisk really connects to a fake Asterisk, logs in, receives events and reconnects."""

from __future__ import annotations

import asyncio
import logging

import pytest

from crm_core.domain.calls import CallStatus
from telephony_bridge.ami import read_capture
from telephony_bridge.ami.backoff import Backoff
from telephony_bridge.ami.listener import AmiListener
from telephony_bridge.settings import AmiSettings
from tests.support.network import free_port

from .helpers import AMI_SECRET, AMI_USER, DATA, Collector, FakeAmi, eventually, expected_for

FAST = {
    "backoff": Backoff(initial_s=0.01, max_s=0.05, jitter=0.0),
    "heartbeat_s": 0.5,
    "connect_timeout_s": 2.0,
}


def settings_for(port: int, *, secret: str = AMI_SECRET) -> AmiSettings:
    return AmiSettings(
        _env_file=None,  # whatever .env the machine has
        ami_host="127.0.0.1",
        ami_port=port,
        ami_username=AMI_USER,
        ami_secret=secret,
        default_region="RU",
    )


def until_answered(name: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The capture split just after the seller was connected to the caller."""
    events = list(read_capture(DATA / name))
    answered = [i for i, event in enumerate(events) if event["Event"] == "BridgeEnter"][1] + 1
    return events[:answered], events[answered:]


async def test_the_listener_logs_in_and_turns_the_streamed_events_into_calls(fake_ami: FakeAmi) -> None:
    calls = Collector()
    async with AmiListener(settings_for(fake_ami.port), calls, **FAST):  # type: ignore[arg-type]
        await fake_ami.wait_for_login(1)
        await fake_ami.send(read_capture(DATA / "answered_queue.txt"))
        published = await calls.wait_for(2)
    assert [call.to_json() for call in published] == expected_for(DATA / "answered_queue.txt")


async def test_after_asterisk_drops_the_connection_the_listener_reconnects_and_closes_what_it_could_not_see(
    fake_ami: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    calls = Collector()
    before, _ = until_answered("answered_direct.txt")
    with caplog.at_level(logging.INFO, logger="telephony_bridge.ami"):
        async with AmiListener(settings_for(fake_ami.port), calls, **FAST) as listener:  # type: ignore[arg-type]
            await fake_ami.wait_for_login(1)
            await fake_ami.send(before)
            [progress] = await calls.wait_for(1)
            await fake_ami.drop()
            await fake_ami.wait_for_login(2)
            _, closed = await calls.wait_for(2)
            await fake_ami.send(read_capture(DATA / "missed_queue_abandon.txt"))
            *_, missed = await calls.wait_for(3)
            assert listener.logins == 2
    assert progress.ended_at is None
    assert closed.call_id == progress.call_id
    assert (closed.status, closed.answered_by) == (CallStatus.ANSWERED, "201")
    assert closed.is_final
    assert (missed.caller, missed.status) == ("+79163334455", CallStatus.MISSED)
    assert "lost the AMI connection" in caplog.text
    assert "its end was not seen while disconnected" in caplog.text
    assert "*******2233" in caplog.text
    assert "79161112233" not in caplog.text


async def test_a_wrong_secret_is_refused_and_retried_until_the_pbx_accepts_it(
    fake_ami: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    fake_ami.secret = "not-the-one-kanbot-has"
    with caplog.at_level(logging.WARNING, logger="telephony_bridge.ami"):
        async with AmiListener(settings_for(fake_ami.port), Collector(), **FAST) as listener:  # type: ignore[arg-type]
            await eventually(lambda: fake_ami.refusals >= 2)
            assert not listener.connected
            assert listener.logins == 0
            fake_ami.secret = AMI_SECRET  # the admin fixes manager.conf
            await fake_ami.wait_for_login(1)
            await eventually(lambda: listener.connected)
    assert "refused the login of 'kanbot'" in caplog.text
    assert AMI_SECRET not in caplog.text


async def test_an_asterisk_that_stops_answering_pings_is_left_and_reconnected(fake_ami: FakeAmi) -> None:
    fake_ami.answer_pings = False
    options = {**FAST, "heartbeat_s": 0.1}
    async with AmiListener(settings_for(fake_ami.port), Collector(), **options):  # type: ignore[arg-type]
        await fake_ami.wait_for_login(2)


async def test_an_unreachable_asterisk_is_retried_until_it_comes_up() -> None:
    late = FakeAmi()
    late.port = free_port()
    try:
        async with AmiListener(settings_for(late.port), Collector(), **FAST):  # type: ignore[arg-type]
            await asyncio.sleep(0.1)  # a few refused connections
            await late.start()
            await late.wait_for_login(1)
    finally:
        await late.close()


async def test_stopping_the_listener_hands_over_the_calls_still_in_flight(fake_ami: FakeAmi) -> None:
    calls = Collector()
    ringing = list(read_capture(DATA / "missed_queue_abandon.txt"))[:30]
    async with AmiListener(settings_for(fake_ami.port), calls, **FAST) as listener:  # type: ignore[arg-type]
        await fake_ami.wait_for_login(1)
        await fake_ami.send(ringing)
        await eventually(lambda: listener.tracker.in_flight == 1)
    [closed] = calls.calls
    assert (closed.status, closed.caller) == (CallStatus.MISSED, "+79163334455")
    assert closed.is_final


async def test_a_failing_consumer_does_not_stop_the_listener(fake_ami: FakeAmi) -> None:
    delivered = Collector()

    async def flaky(call: object) -> None:
        if not delivered.calls and not getattr(flaky, "failed", False):
            flaky.failed = True  # type: ignore[attr-defined]
            raise RuntimeError("the consumer is having a bad day")
        await delivered(call)  # type: ignore[arg-type]

    async with AmiListener(settings_for(fake_ami.port), flaky, **FAST):  # type: ignore[arg-type]
        await fake_ami.wait_for_login(1)
        await fake_ami.send(read_capture(DATA / "answered_direct.txt"))
        [final] = await delivered.wait_for(1)
    assert final.is_final


def test_the_listener_refuses_to_start_without_credentials() -> None:
    settings = AmiSettings(_env_file=None, ami_username=None, ami_secret=None)
    with pytest.raises(ValueError, match="KANBOT_AMI_USERNAME and KANBOT_AMI_SECRET"):
        AmiListener(settings, Collector())


def test_backoff_grows_exponentially_up_to_its_cap_with_bounded_jitter() -> None:
    exact = Backoff(initial_s=1, factor=2, max_s=30, jitter=0)
    assert [exact.delay(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert exact.delay(10_000) == 30
    jittery = Backoff(initial_s=1, factor=2, max_s=30, jitter=0.2)
    delays = [jittery.delay(3) for _ in range(200)]
    assert all(6.4 <= delay <= 9.6 for delay in delays)
    assert len(set(delays)) > 1
    assert all(jittery.delay(20) <= 30 for _ in range(50))
