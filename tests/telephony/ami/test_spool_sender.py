"""The spool and its sender: a CRM that is down loses nothing, and gets each call once, in order, later."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from crm_core.domain.calls import CallEvent
from telephony_bridge.ami import CallTracker, read_capture
from telephony_bridge.ami.backoff import Backoff
from telephony_bridge.ami.listener import cancel_and_wait
from telephony_bridge.ami.sender import CallSender
from telephony_bridge.providers.generic import parse_generic
from telephony_bridge.spool import Spool, SpooledCall, encode

from .helpers import CALLS_SECRET, TestCrm, eventually, own_captures

QUICK = Backoff(initial_s=0.01, max_s=0.05, jitter=0.0)


def some_calls() -> list[CallEvent]:
    """In-progress and final calls, as the tracker publishes them."""
    tracker = CallTracker()
    events = [event for path in own_captures() for event in read_capture(path)]
    return [call for event in events for call in tracker.feed(event)][:8]


def distinct_calls(count: int) -> list[CallEvent]:
    """Final calls, each with its own call id."""
    return [call for call in some_calls() if call.is_final][:count]


async def until_empty(spool: Spool, timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while await spool.pending():  # noqa: ASYNC110  # the spool has no "emptied" event
            await asyncio.sleep(0.01)


async def refused(spool: Spool, *, times: int, timeout_s: float = 5.0) -> None:
    """Until the sender has tried the oldest spooled call ``times`` times, and failed each time."""
    async with asyncio.timeout(timeout_s):
        while (item := await spool.oldest()) is None or item.attempts < times:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def found_empty(spool: Spool) -> asyncio.Event:
    """Set once a sender has looked into ``spool`` and found nothing to send."""
    looked = asyncio.Event()
    oldest = spool.oldest

    async def watched() -> SpooledCall | None:
        item = await oldest()
        if item is None:
            looked.set()
        return item

    spool.oldest = watched  # type: ignore[method-assign]
    return looked


@asynccontextmanager
async def sending(spool: Spool, crm: TestCrm, *, secret: str = CALLS_SECRET) -> AsyncIterator[CallSender]:
    """A sender running in the background for the duration of the block."""
    async with aiohttp.ClientSession() as session:
        sender = CallSender(spool, crm_url=crm.url, secret=secret, session=session, backoff=QUICK)
        task = asyncio.create_task(sender.run())
        try:
            yield sender
        finally:
            await cancel_and_wait(task)


async def test_calls_spooled_while_the_crm_refuses_connections_arrive_once_each_in_order(
    crm: TestCrm, tmp_path: Path
) -> None:
    calls = some_calls()
    async with Spool(tmp_path / "spool.sqlite") as spool, sending(spool, crm):
        for call in calls:
            await spool.put(call)
        await refused(spool, times=3)  # the sender keeps knocking at a closed door meanwhile
        assert await spool.pending() == len(calls)
        await crm.start()
        await until_empty(spool)
        assert len(crm.accepted) == len(calls)
        assert crm.requests == len(calls)
    assert crm.accepted == [call.to_json() for call in calls]
    assert crm.requests == len(calls)  # once each
    assert crm.refused_signatures == 0


async def test_calls_spooled_while_the_crm_answers_503_arrive_once_each_in_order(
    crm: TestCrm, tmp_path: Path
) -> None:
    calls = some_calls()
    crm.answer_with = 503
    await crm.start()
    async with Spool(tmp_path / "spool.sqlite") as spool, sending(spool, crm):
        for call in calls:
            await spool.put(call)
        await eventually(lambda: crm.requests >= 3)
        assert crm.accepted == []
        crm.answer_with = None
        await until_empty(spool)
    assert crm.accepted == [call.to_json() for call in calls]


async def test_a_restarted_bridge_keeps_what_was_not_delivered(crm: TestCrm, tmp_path: Path) -> None:
    calls = some_calls()
    path = tmp_path / "spool.sqlite"
    async with Spool(path) as before_restart, sending(before_restart, crm):
        for call in calls:
            await before_restart.put(call)
        await refused(before_restart, times=1)
    await crm.start()
    async with Spool(path) as after_restart:
        assert await after_restart.pending() == len(calls)
        async with sending(after_restart, crm):
            await until_empty(after_restart)
        assert await after_restart.pending() == 0
    assert crm.accepted == [call.to_json() for call in calls]


async def test_a_delivered_call_is_not_sent_again_after_a_restart(crm: TestCrm, tmp_path: Path) -> None:
    calls = some_calls()
    await crm.start()
    path = tmp_path / "spool.sqlite"
    async with Spool(path) as spool, sending(spool, crm):
        for call in calls:
            await spool.put(call)
        await until_empty(spool)
    async with Spool(path) as spool:
        looked = found_empty(spool)
        async with sending(spool, crm):
            await asyncio.wait_for(looked.wait(), timeout=5)
    assert crm.requests == len(calls)


async def test_a_call_the_crm_refuses_for_good_is_parked_and_the_queue_moves_on(
    crm: TestCrm, tmp_path: Path
) -> None:
    first, refused, third = distinct_calls(3)
    crm.reject = {refused.call_id}
    await crm.start()
    async with Spool(tmp_path / "spool.sqlite") as spool:
        async with sending(spool, crm):
            for call in (first, refused, third):
                await spool.put(call)
            await until_empty(spool)
        [parked] = await spool.parked()
        assert await spool.pending() == 0
    assert [call["call_id"] for call in crm.accepted] == [first.call_id, third.call_id]
    assert (parked.call_id, parked.status) == (refused.call_id, 422)
    assert "HTTP 422" in parked.reason
    assert parked.body == encode(refused)


async def test_too_many_requests_is_retried_not_parked(crm: TestCrm, tmp_path: Path) -> None:
    [call] = some_calls()[:1]
    crm.answer_with = 429
    await crm.start()
    async with Spool(tmp_path / "spool.sqlite") as spool:
        async with sending(spool, crm):
            await spool.put(call)
            await eventually(lambda: crm.requests >= 2)
            crm.answer_with = None
            await until_empty(spool)
        assert await spool.parked() == []


async def test_a_duplicate_answer_counts_as_delivered(crm: TestCrm, tmp_path: Path) -> None:
    [call] = some_calls()[:1]
    await crm.start()
    async with Spool(tmp_path / "spool.sqlite") as spool, sending(spool, crm):
        await spool.put(call)
        await spool.put(call)  # sent twice, e.g. after a crash between the CRM's 202 and the delete
        await until_empty(spool)
    assert len(crm.accepted) == 1


async def test_draining_on_shutdown_delivers_what_the_crm_takes_and_keeps_the_rest(
    crm: TestCrm, tmp_path: Path
) -> None:
    calls = some_calls()
    async with Spool(tmp_path / "spool.sqlite") as spool, aiohttp.ClientSession() as session:
        sender = CallSender(spool, crm_url=crm.url, secret=CALLS_SECRET, session=session, backoff=QUICK)
        for call in calls:
            await spool.put(call)
        assert await sender.drain(timeout_s=1) == 0  # the CRM is down: nothing lost, nothing waited for
        assert await spool.pending() == len(calls)
        await crm.start()
        assert await sender.drain(timeout_s=5) == len(calls)
        assert await spool.pending() == 0


async def test_a_body_signed_with_another_secret_is_refused_by_the_crm_and_parked(
    crm: TestCrm, tmp_path: Path
) -> None:
    [call] = some_calls()[:1]
    await crm.start()
    async with Spool(tmp_path / "spool.sqlite") as spool:
        async with sending(spool, crm, secret="not-the-crms-secret"):
            await spool.put(call)
            await until_empty(spool)
        [parked] = await spool.parked()
    assert (crm.refused_signatures, parked.status) == (1, 401)
    assert json.loads(parked.body) == call.to_json()
    assert crm.accepted == []


def test_the_posted_bodies_are_what_the_crms_calls_endpoint_accepts() -> None:
    for call in some_calls():
        [read_back] = parse_generic(json.loads(encode(call)), region="RU")
        assert read_back.to_json() == {**call.to_json(), "provider": read_back.provider}
        assert read_back.provider == "asterisk"
