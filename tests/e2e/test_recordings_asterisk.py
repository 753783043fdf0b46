"""Asterisk's recordings end to end: a fake Asterisk plays an answered call to ``kanbot run`` on the PBX
host, MixMonitor's file of it lies in the monitor directory, the worker's tick takes it, and "🎧" sends it
to the seller who answered; a colleague's forged "🎧" gets nothing."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crm_core.domain.recordings import RecordingState
from crm_core.domain.users import Role
from crm_core.services import Crm
from kanbot.recordings import build_fetchers, recordings_tick
from telegram_emulator import Emulator
from telephony_bridge.ami import read_capture
from telephony_bridge.settings import AmiSettings
from tests.e2e.harness import MARIA, EmulatedChat, RunningKanbot, b36, settings_for
from tests.support.team import Guest
from tests.telephony.ami.helpers import AMI_SECRET, AMI_USER, DATA, FakeAmi

OMAR = 2003  # extension 201: the one that answers in the capture
CALL_ID = "1716976800.101"
WAV = b"RIFF\x24\x10\x00\x00WAVEfmt " + bytes(4096)


@pytest.fixture
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, runtime: str, fake_ami: FakeAmi, tmp_path: Path
) -> AsyncIterator[RunningKanbot]:
    """``kanbot run`` on the PBX host: it listens to Asterisk and shares MixMonitor's directory."""
    await crm.users.add(telegram_id=OMAR, name="Omar", role=Role.SELLER, extensions=("201",))
    settings = settings_for(database_url, emulator.url, runtime)
    settings.core = settings.core.model_copy(update={"recordings_dir": tmp_path / "kept"})
    settings.ami = AmiSettings(
        _env_file=None,
        ami_port=fake_ami.port,
        ami_username=AMI_USER,
        ami_secret=AMI_SECRET,
        ami_recordings_dir=tmp_path / "monitor",
    )  # type: ignore[call-arg]
    running = RunningKanbot(dataclasses.replace(settings))
    await running.start()
    await fake_ami.wait_for_login(1)
    yield running
    await running.stop()


@pytest.fixture
def guests() -> tuple[Guest, ...]:
    return ((OMAR, "Omar", "en"),)


async def test_an_answered_asterisk_calls_mixmonitor_file_reaches_its_seller_and_no_colleague(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm, fake_ami: FakeAmi, tmp_path: Path
) -> None:
    monitor = tmp_path / "monitor"
    monitor.mkdir()
    (monitor / f"{CALL_ID}.wav").write_bytes(WAV)
    os.utime(monitor / f"{CALL_ID}.wav", (time.time() - 60, time.time() - 60))  # MixMonitor is done
    await fake_ami.send(read_capture(DATA / "answered_direct.txt"))

    async def noted() -> bool:
        async with crm.db.uow(write=False) as uow:
            return await uow.recordings.find("asterisk", CALL_ID) is not None

    await chat.wait_until(noted, what="the call's recording noted")
    assert kanbot.kanbot is not None
    fetchers = build_fetchers(kanbot.settings.dial, kanbot.settings.ami)
    assert (await recordings_tick(kanbot.kanbot.crm, fetchers)).fetched == 1  # what the worker's tick does
    async with crm.db.uow(write=False) as uow:
        call = await uow.calls.find("asterisk", CALL_ID)
        recording = await uow.recordings.find("asterisk", CALL_ID)
    assert call is not None and call.deal_id is not None
    assert recording is not None and recording.state is RecordingState.STORED

    await chat.send(OMAR, "/start")
    await chat.press_data(OMAR, (await chat.last(OMAR)).message_id, f"1cd:{b36(call.deal_id)}")
    await chat.click(OMAR, "⋯ More")
    await chat.click(OMAR, "Calls")
    await chat.click(OMAR, "🎧 1")
    sent = (await chat.last(OMAR)).raw
    assert sent["document"] is not None and sent["document"]["size"] == len(WAV)  # a WAV: a file to open
    assert sent["document"]["name"].endswith(".wav") and "🎧" in (sent["caption"] or "")

    await chat.send(MARIA, "/lang en")
    query = await chat.press_data(MARIA, (await chat.last(MARIA)).message_id, f"1lsn:{b36(call.id)}")
    answer = await chat.answer(query)
    assert answer is not None and "not found" in (answer.get("text") or "")
    assert not any(m.raw.get("document") or m.raw.get("audio") for m in await chat.bot_messages(MARIA))
    assert len(await chat.log("sendDocument")) == 1 and await chat.log("sendAudio") == []
