"""The whole bridge process: a fake Asterisk → listener → spool → sender → a test CRM."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from telephony_bridge.ami import read_capture
from telephony_bridge.ami.backoff import Backoff
from telephony_bridge.ami.bridge import run_bridge
from telephony_bridge.settings import AmiSettings
from telephony_bridge.spool import Spool

from .helpers import AMI_SECRET, AMI_USER, CALLS_SECRET, DATA, FakeAmi, TestCrm, eventually, expected_for

QUICK = Backoff(initial_s=0.01, max_s=0.05, jitter=0.0)
LISTENER = {"backoff": QUICK, "heartbeat_s": 0.5, "connect_timeout_s": 2.0}


def bridge_settings(ami: FakeAmi, crm: TestCrm, spool: Path) -> AmiSettings:
    return AmiSettings(
        _env_file=None,  # whatever .env the machine has
        ami_host="127.0.0.1",
        ami_port=ami.port,
        ami_username=AMI_USER,
        ami_secret=AMI_SECRET,
        crm_url=crm.url,
        calls_secret=CALLS_SECRET,
        ami_spool_path=spool,
    )


async def spooled(path: Path, count: int, timeout_s: float = 5.0) -> None:
    """Wait until the bridge's spool holds ``count`` calls (read beside it: WAL allows it)."""
    async with Spool(path) as peek, asyncio.timeout(timeout_s):
        while await peek.pending() != count:  # noqa: ASYNC110  # another process's file: no event
            await asyncio.sleep(0.01)


async def run_until(stop: asyncio.Event, settings: AmiSettings) -> asyncio.Task[None]:
    task = asyncio.create_task(
        run_bridge(settings, stop=stop, flush_timeout_s=0.5, sender_backoff=QUICK, listener_options=LISTENER)
    )
    await asyncio.sleep(0)
    return task


async def test_calls_flow_from_asterisk_to_the_crm_even_across_a_crm_outage_and_a_bridge_restart(
    fake_ami: FakeAmi, crm: TestCrm, tmp_path: Path
) -> None:
    settings = bridge_settings(fake_ami, crm, tmp_path / "spool.sqlite")
    expected = expected_for(DATA / "answered_direct.txt") + expected_for(DATA / "missed_queue_abandon.txt")

    # The CRM is down: the bridge spools what Asterisk reports, then is stopped.
    stop = asyncio.Event()
    first_run = await run_until(stop, settings)
    await fake_ami.wait_for_login(1)
    await fake_ami.send(read_capture(DATA / "answered_direct.txt"))
    await fake_ami.send(read_capture(DATA / "missed_queue_abandon.txt"))
    await spooled(tmp_path / "spool.sqlite", len(expected))
    stop.set()
    await first_run
    assert crm.accepted == []

    # The CRM is back and the bridge starts again: everything arrives, once, in order.
    await crm.start()
    stop = asyncio.Event()
    second_run = await run_until(stop, settings)
    await eventually(lambda: len(crm.accepted) == len(expected))
    await fake_ami.wait_for_login(2)
    await fake_ami.send(read_capture(DATA / "outbound_call.json"))
    expected += expected_for(DATA / "outbound_call.json")
    await eventually(lambda: len(crm.accepted) == len(expected))
    await spooled(tmp_path / "spool.sqlite", 0)  # each delivery settled before the stop
    stop.set()
    await second_run
    assert crm.accepted == expected
    assert crm.requests == len(expected)


async def test_the_bridge_carries_an_answered_calls_mixmonitor_file_to_the_crm(
    fake_ami: FakeAmi, crm: TestCrm, tmp_path: Path
) -> None:
    await crm.start()
    settings = bridge_settings(fake_ami, crm, tmp_path / "spool.sqlite").model_copy(
        update={"ami_recordings_dir": tmp_path / "monitor"}
    )
    [answered] = [c for c in expected_for(DATA / "answered_direct.txt") if c["ended_at"] is not None]
    recording = tmp_path / "monitor" / f"{answered['call_id']}.wav"
    recording.parent.mkdir()
    recording.write_bytes(b"RIFF....WAVEfmt " + bytes(256))
    os.utime(recording, (time.time() - 60, time.time() - 60))  # MixMonitor closed it at the hang-up
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_bridge(
            settings,
            stop=stop,
            flush_timeout_s=0.5,
            sender_backoff=QUICK,
            listener_options=LISTENER,
            recordings_poll_s=0.05,
        )
    )
    await fake_ami.wait_for_login(1)
    await fake_ami.send(read_capture(DATA / "answered_direct.txt"))
    await eventually(lambda: len(crm.recordings) == 1)
    stop.set()
    await task
    [(meta, data)] = crm.recordings
    assert (meta["provider"], meta["call_id"], meta["file_name"]) == (
        "asterisk",
        answered["call_id"],
        recording.name,
    )
    assert data == recording.read_bytes() and meta["size"] == len(data)
