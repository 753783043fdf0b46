"""The CRM gone while the AMI bridge keeps hearing calls: Asterisk (a fake AMI server) goes on
reporting calls, the bridge spools them, and once Kanbot is back every call arrives, once, in the
order the calls ended. Minutes in ``make reliability``; seconds in ``make test``."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from crm_core.services import Crm
from kanbot.settings import ServerSettings
from telegram_emulator import Emulator
from telephony_bridge.ami import read_capture, replay
from telephony_bridge.ami.backoff import Backoff
from telephony_bridge.ami.bridge import run_bridge
from telephony_bridge.settings import AmiSettings
from tests.e2e.harness import CALLS_SECRET, RunningKanbot, settings_for
from tests.reliability.nothing_lost import TALLY, calls_once
from tests.support.databases import SQLITE_ONLY
from tests.support.network import free_port
from tests.telephony.ami.helpers import AMI_SECRET, AMI_USER, DATA, FakeAmi

QUICK_GONE_S, QUICK_RATE = 4.0, 5.0  # calls a second while the CRM is away
LONG_GONE_S = float(os.environ.get("KANBOT_CRM_GONE_S", "300"))
LONG_RATE = 2.0
LISTENER = {
    "backoff": Backoff(initial_s=0.05, max_s=0.5, jitter=0.0),
    "heartbeat_s": 2.0,
    "connect_timeout_s": 2.0,
}
CAPTURES = ["answered_direct.txt", "missed_queue_abandon.txt", "blind_transfer.txt", "outbound_call.json"]


def synthetic_calls(start: int, count: int, at: int) -> Iterator[list[dict[str, str]]]:
    """Missed inbound calls, each a channel that appears and hangs up (a caller giving up)."""
    for n in range(start, start + count):
        moment = at + n * 10
        unique = f"{moment}.{n}"
        base = {
            "Channel": f"PJSIP/sipnet-{n:08x}",
            "CallerIDNum": f"+7999{n:07d}",
            "Context": "from-pstn",
            "Exten": "74951234567",
            "Uniqueid": unique,
            "Linkedid": unique,
        }
        yield [
            base | {"Event": "Newchannel", "ChannelState": "0", "Timestamp": f"{moment}.0"},
            base | {"Event": "Hangup", "Cause": "16", "Timestamp": f"{moment + 5}.0"},
        ]


@pytest.fixture
async def kanbot(crm: Crm, database_url: str, emulator: Emulator) -> AsyncIterator[RunningKanbot]:
    """Kanbot on a fixed port, so that the bridge finds it again after a restart."""
    settings = settings_for(database_url, emulator.url)
    settings.server = ServerSettings(_env_file=None, http_host="127.0.0.1", http_port=free_port())
    running = RunningKanbot(settings)
    await running.start()
    yield running
    if running.kanbot is not None and running._task is not None:
        await running.stop()


async def crm_gone_while_calls_go_on(
    crm: Crm, kanbot: RunningKanbot, fake_ami: FakeAmi, tmp_path: Path, *, gone_s: float, rate: float
) -> None:
    settings = AmiSettings(
        _env_file=None,
        ami_host="127.0.0.1",
        ami_port=fake_ami.port,
        ami_username=AMI_USER,
        ami_secret=AMI_SECRET,
        crm_url=kanbot.http_url,
        calls_secret=CALLS_SECRET,
        ami_spool_path=tmp_path / "spool.sqlite",
    )
    stop = asyncio.Event()
    bridge = asyncio.create_task(
        run_bridge(
            settings,
            stop=stop,
            flush_timeout_s=1.0,
            sender_backoff=Backoff(initial_s=0.2, max_s=min(60.0, gone_s / 4), jitter=0.1),
            listener_options=LISTENER,
        )
    )
    sent: list[list[dict[str, str]]] = []

    async def ring(calls: list[list[dict[str, str]]], pace_s: float = 0.0) -> None:
        for events in calls:
            await fake_ami.send(events)
            sent.append(events)
            if pace_s:
                await asyncio.sleep(pace_s)

    try:
        await fake_ami.wait_for_login(1)
        at = 1_716_979_800
        await ring([list(read_capture(DATA / name)) for name in CAPTURES[:2]])  # the CRM is there
        await ring(list(synthetic_calls(0, 3, at)))
        await kanbot.stop()  # the CRM goes
        TALLY.fault("CRM gone")
        count = int(gone_s * rate)
        await ring([list(read_capture(DATA / name)) for name in CAPTURES[2:]])
        await ring(list(synthetic_calls(3, count, at)), pace_s=1 / rate)
        await kanbot.start()  # and comes back
        await ring(list(synthetic_calls(3 + count, 3, at)))
        expected = replay(e for events in sent for e in events)  # the calls as they ended
        await arrived(crm, len(expected), stall_s=60 + gone_s / 4)
    finally:
        stop.set()
        await bridge
    async with crm.db.engine.connect() as conn:
        stored = [r[0] for r in await conn.execute(text("SELECT external_id FROM calls ORDER BY id"))]
    assert stored == [c.call_id for c in expected], "every call once, in the order the calls ended"
    await calls_once(crm.db, [(c.provider, c.call_id, True) for c in expected])
    TALLY.cases += 1
    TALLY.count("calls spooled while the CRM was gone", count + 2)


async def arrived(crm: Crm, count: int, *, stall_s: float) -> None:
    """Until ``count`` calls have arrived, however long the spool takes to drain on a busy machine; it
    fails when none arrives for ``stall_s`` (longer than the sender's longest backoff): a stalled spool."""
    seen, since = -1, time.monotonic()
    while True:
        async with crm.db.engine.connect() as conn:
            done = await conn.scalar(text("SELECT count(*) FROM calls WHERE ended_at IS NOT NULL"))
        if done >= count:  # more than sent is caught by the checks after
            return
        if done != seen:
            seen, since = done, time.monotonic()
        assert time.monotonic() - since < stall_s, f"{done} of {count} calls came, then none for {stall_s} s"
        await asyncio.sleep(0.2)


@SQLITE_ONLY
async def test_calls_heard_while_the_crm_is_gone_arrive_once_in_order(
    crm: Crm, kanbot: RunningKanbot, fake_ami: FakeAmi, tmp_path: Path
) -> None:
    await crm_gone_while_calls_go_on(crm, kanbot, fake_ami, tmp_path, gone_s=QUICK_GONE_S, rate=QUICK_RATE)


@pytest.mark.reliability
async def test_calls_heard_while_the_crm_is_gone_for_minutes_arrive_once_in_order(
    crm: Crm, kanbot: RunningKanbot, fake_ami: FakeAmi, tmp_path: Path
) -> None:
    await crm_gone_while_calls_go_on(crm, kanbot, fake_ami, tmp_path, gone_s=LONG_GONE_S, rate=LONG_RATE)
