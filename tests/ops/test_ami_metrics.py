"""Calls from Asterisk's AMI, taken by ``kanbot run`` itself, are counted in /metrics as the calls posted
over HTTP are (they go through the same ingest)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import aiohttp
import pytest

from crm_core.services import Crm
from telegram_emulator import Emulator
from telephony_bridge.ami import read_capture
from telephony_bridge.settings import AmiSettings
from tests.e2e.harness import RunningKanbot, call_body, post_call, seeded_crm, settings_for
from tests.ops.support import wait_for
from tests.telephony.ami.helpers import AMI_SECRET, AMI_USER, DATA, FakeAmi

ASTERISK_CALL = "1716976800.101"  # answered_direct.txt: an inbound call answered at extension 201


@pytest.fixture
async def crm(database_url: str) -> AsyncIterator[Crm]:
    async with seeded_crm(database_url) as crm:
        yield crm


@pytest.fixture
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, fake_ami: FakeAmi
) -> AsyncIterator[RunningKanbot]:
    """``kanbot run`` on the PBX host: it listens to Asterisk itself, and takes calls over HTTP too."""
    settings = settings_for(database_url, emulator.url)
    settings.ami = AmiSettings(
        _env_file=None, ami_port=fake_ami.port, ami_username=AMI_USER, ami_secret=AMI_SECRET
    )  # type: ignore[call-arg]
    running = RunningKanbot(dataclasses.replace(settings))
    await running.start()
    await fake_ami.wait_for_login(1)
    yield running
    await running.stop()


async def scrape(kanbot: RunningKanbot) -> list[str]:
    async with aiohttp.ClientSession() as http, http.get(kanbot.http_url + "/metrics") as response:
        assert response.status == 200
        return (await response.text()).splitlines()


async def test_a_call_from_the_in_process_ami_listener_is_counted_in_the_metrics_like_one_over_http(
    kanbot: RunningKanbot, crm: Crm, fake_ami: FakeAmi
) -> None:
    await post_call(kanbot.http_url, call_body("ops-http-1"))
    await fake_ami.send(read_capture(DATA / "answered_direct.txt"))

    async def ended() -> bool:
        async with crm.db.uow(write=False) as uow:
            call = await uow.calls.find("asterisk", ASTERISK_CALL)
        return call is not None and call.is_final

    await wait_for(ended, timeout_s=20, what="the Asterisk call to be ingested to its end")
    lines = await scrape(kanbot)
    assert 'kanbot_calls_ingested_total{provider="generic",result="created",status="missed"} 1.0' in lines
    assert 'kanbot_calls_ingested_total{provider="asterisk",result="created",status="answered"} 1.0' in lines
