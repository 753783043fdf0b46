"""A cloud PBX's recording end to end: Mango Office reports an answered call and then its recording to
the running Kanbot, the worker's tick fetches it from (a fake of) Mango's API, and "🎧" sends it to the
seller who answered."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from crm_core.domain.recordings import RecordingState
from crm_core.services import Crm
from kanbot.recordings import build_fetchers, recordings_tick
from telegram_emulator import Emulator
from telephony_bridge.providers.mango import mango_sign
from telephony_bridge.settings import CloudPbxSettings, DialSettings
from tests.e2e.harness import ALI, CALLS_SECRET, EmulatedChat, RunningKanbot, b36, settings_for

KEY, SALT = "k4nb0t-e2e-vpbx-api-key", "k4nb0t-e2e-vpbx-api-salt"
ENTRY, RECORDING = "RTJFLWVudHJ5LTE=", "MToxMDA1Mzk4MTpyZWM="
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(6000)


@pytest.fixture
async def mango_api() -> AsyncIterator[str]:
    """Mango's ``queries/recording/post``: checks the signature, redirects to the file."""

    async def recording(request: web.Request) -> web.StreamResponse:
        form = dict(parse_qsl((await request.read()).decode()))
        if form.get("sign") != mango_sign(KEY, form.get("json", ""), SALT):
            return web.json_response({"result": 3102}, status=401)
        if json.loads(form["json"]) != {"recording_id": RECORDING, "action": "download"}:
            return web.json_response({"result": 3101}, status=404)
        raise web.HTTPFound("/files/rec.mp3")

    async def file(request: web.Request) -> web.Response:
        return web.Response(body=MP3, content_type="audio/mpeg")

    app = web.Application()
    app.router.add_post("/vpbx/queries/recording/post", recording)
    app.router.add_get("/files/rec.mp3", file)
    server = TestServer(app)
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, runtime: str, mango_api: str, tmp_path: Path
) -> AsyncIterator[RunningKanbot]:
    settings = settings_for(database_url, emulator.url, runtime)
    settings.core = settings.core.model_copy(update={"recordings_dir": tmp_path / "kept"})
    settings.cloud = CloudPbxSettings(
        _env_file=None, calls_secret=CALLS_SECRET, mango_api_key=KEY, mango_api_salt=SALT
    )  # type: ignore[call-arg]
    settings.dial = DialSettings(
        _env_file=None, mango_api_key=KEY, mango_api_salt=SALT, mango_api_url=f"{mango_api}/vpbx"
    )  # type: ignore[call-arg]
    running = RunningKanbot(settings)
    await running.start()
    yield running
    await running.stop()


async def notify(kanbot: RunningKanbot, event: str, payload: dict[str, object]) -> None:
    text = json.dumps(payload)
    form = {"vpbx_api_key": KEY, "sign": mango_sign(KEY, text, SALT), "json": text}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{kanbot.http_url}/hooks/mango/events/{event}", data=form) as answer,
    ):
        assert answer.status == 200, await answer.text()


async def test_a_mango_recording_is_fetched_by_the_tick_and_sent_to_the_seller_who_answered(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    now = int(time.time())
    summary = {
        "entry_id": ENTRY,
        "call_direction": 1,
        "from": {"number": "74951234567"},
        "to": {"extension": "101", "number": "sip:ali@kanbot-demo.mangosip.ru"},
        "line_number": "74997001122",
        "create_time": now - 100,
        "talk_time": now - 90,
        "end_time": now - 10,
        "entry_result": 1,
    }
    await notify(kanbot, "summary", summary)
    await notify(kanbot, "record/added", {"entry_id": ENTRY, "product_id": 4001, "recording_id": RECORDING})
    assert kanbot.kanbot is not None
    assert (await recordings_tick(kanbot.kanbot.crm, build_fetchers(kanbot.settings.dial))).fetched == 1
    async with crm.db.uow(write=False) as uow:
        call = await uow.calls.find("mango", ENTRY)
        recording = await uow.recordings.find("mango", ENTRY)
    assert call is not None and call.deal_id is not None
    assert recording is not None and recording.state is RecordingState.STORED

    await chat.send(ALI, "/lang en")
    await chat.press_data(ALI, (await chat.last(ALI)).message_id, f"1cd:{b36(call.deal_id)}")
    await chat.click(ALI, "⋯ More")
    await chat.click(ALI, "Calls")
    await chat.click(ALI, "🎧 1")
    audio = (await chat.last(ALI)).raw["audio"]
    assert audio is not None and audio["size"] == len(MP3) and audio["duration"] == 80
