"""A call's recording in the chat: "🎧" in the deal's calls sends it as audio to the deal's seller and to
a boss; a colleague pressing a forged "🎧" is told there is no such deal, and gets nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from crm_core.adapters.recording_files import DirectoryFiles
from crm_core.domain.recordings import RecordingNotice
from crm_core.ports import FixedClock
from crm_core.services import Crm
from telegram_emulator import Emulator
from telephony_bridge.recordings.api import CrmRecordings
from tests.e2e.harness import (
    ALI,
    BOSS,
    CALLS_SECRET,
    MARIA,
    EmulatedChat,
    Msg,
    RunningKanbot,
    b36,
    settings_for,
)
from tests.e2e.test_calls import post_call

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(4000)


@pytest.fixture
def recordings_dir(tmp_path: Path) -> Path:
    return tmp_path / "recordings"


@pytest.fixture
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, runtime: str, recordings_dir: Path
) -> AsyncIterator[RunningKanbot]:
    settings = settings_for(database_url, emulator.url, runtime)
    core = settings.core.model_copy(update={"recordings_dir": recordings_dir})
    running = RunningKanbot(dataclasses.replace(settings, core=core))
    await running.start()
    yield running
    await running.stop()


async def recorded_call(kanbot: RunningKanbot, crm: Crm, recordings_dir: Path) -> tuple[int, int]:
    """An answered call Ali took from a new number (a deal of his), whose recording the CRM keeps."""
    ended = datetime.now(UTC)
    outcome = await post_call(kanbot, call_id="rec-1", ended_at=ended.isoformat(), duration_s=25)
    async with aiohttp.ClientSession() as session:  # as `kanbot bridge ami` hands over a recording
        crm_side = CrmRecordings(session, crm_url=kanbot.http_url, secret=CALLS_SECRET)
        await crm_side.upload(RecordingNotice("generic", "rec-1", "rec-1.mp3"), MP3, "rec-1.mp3")
    async with crm.db.uow(write=False) as uow:
        call = await uow.calls.find("generic", "rec-1")
    assert call is not None and call.deal_id == outcome["deal_id"]
    return call.id, call.deal_id


async def audio_sent(chat: EmulatedChat, user_id: int) -> list[Msg]:
    return [m for m in await chat.bot_messages(user_id) if m.raw.get("audio")]


async def listen(chat: EmulatedChat, user_id: int, deal_id: int) -> Msg:
    """Open the deal's card, its calls, and press "🎧 1"; the audio the bot sent."""
    await chat.send(user_id, "/lang en")
    await chat.press_data(user_id, (await chat.last(user_id)).message_id, f"1cd:{b36(deal_id)}")
    await chat.click(user_id, "⋯ More")
    await chat.click(user_id, "Calls")
    calls = await chat.last(user_id)
    assert "🎧 1" in calls.text and "🎧 1" in calls.button_texts, calls.text
    await chat.click(user_id, "🎧 1")
    [audio] = await audio_sent(chat, user_id)
    return audio


async def test_the_sellers_and_a_bosss_headphones_send_the_recording_and_a_colleague_gets_nothing(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm, recordings_dir: Path
) -> None:
    call_id, deal_id = await recorded_call(kanbot, crm, recordings_dir)
    for user_id in (ALI, BOSS):
        audio = await listen(chat, user_id, deal_id)
        sent = audio.raw["audio"]
        assert sent["size"] == len(MP3) and sent["mime_type"] == "audio/mpeg", sent
        assert sent["duration"] == 25 and sent["name"].endswith(".mp3")
        assert "🎧" in audio.text and "25 s" in audio.text

    await chat.send(MARIA, "/lang en")
    query = await chat.press_data(MARIA, (await chat.last(MARIA)).message_id, f"1lsn:{b36(call_id)}")
    answer = await chat.answer(query)
    assert answer is not None and "not found" in (answer.get("text") or ""), answer
    assert await audio_sent(chat, MARIA) == []
    assert len(await chat.log("sendAudio")) == 2
    assert await chat.refusals() == []


async def test_a_call_without_a_kept_recording_has_no_headphones(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    outcome = await post_call(kanbot, call_id="plain", ended_at=datetime.now(UTC).isoformat(), duration_s=30)
    await chat.send(ALI, "/lang en")
    await chat.press_data(ALI, (await chat.last(ALI)).message_id, f"1cd:{b36(outcome['deal_id'])}")
    await chat.click(ALI, "⋯ More")
    await chat.click(ALI, "Calls")
    calls = await chat.last(ALI)
    assert "🎧" not in calls.text and not any("🎧" in t for t in calls.button_texts)
    async with crm.db.uow(write=False) as uow:
        call = await uow.calls.find("generic", "plain")
    assert call is not None
    query = await chat.press_data(ALI, calls.message_id, f"1lsn:{b36(call.id)}")
    answer = await chat.answer(query)
    assert answer is not None and "Not found" in (answer.get("text") or "")
    assert await audio_sent(chat, ALI) == []


async def test_a_recording_past_its_retention_period_is_deleted_and_the_calls_list_says_so(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm, recordings_dir: Path
) -> None:
    _, deal_id = await recorded_call(kanbot, crm, recordings_dir)
    await listen(chat, ALI, deal_id)
    calls = next(m for m in reversed(await chat.bot_messages(ALI)) if "🎧 1" in m.button_texts)
    later = Crm(
        crm.db,
        clock=FixedClock(datetime.now(UTC) + timedelta(days=91)),
        config=crm.config,
        recording_files=DirectoryFiles(recordings_dir),
    )
    assert await later.recordings.expire() == 1  # what the worker's tick does
    assert await asyncio.to_thread(os.listdir, recordings_dir) == []
    query = await chat.click(ALI, "🎧 1", message_id=calls.message_id)  # the old list's button
    answer = await chat.answer(query)
    assert answer is not None and "Not found" in (answer.get("text") or "")
    await chat.click(ALI, "Back", message_id=calls.message_id)
    await chat.click(ALI, "⋯ More", message_id=calls.message_id)
    await chat.click(ALI, "Calls", message_id=calls.message_id)
    shown = await chat.message(ALI, calls.message_id)
    assert "recording deleted" in shown.text and not any("🎧" in t for t in shown.button_texts)
    assert len(await audio_sent(chat, ALI)) == 1
