"""Recordings at the cloud PBXs: the notifications that name one are kept for the CRM to fetch, and the
fetch talks to each provider's API as it documents it (fake HTTP servers check auth and signatures)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from crm_core.domain.errors import Unavailable
from crm_core.domain.recordings import Recording, RecordingNotice, RecordingState
from telephony_bridge.http import create_app
from telephony_bridge.providers.mango import mango_sign
from telephony_bridge.providers.twilio import twilio_signature
from telephony_bridge.providers.zadarma import zadarma_signature
from telephony_bridge.recordings.fetch import fetch_due
from telephony_bridge.recordings.fetchers import (
    Audio,
    Fetcher,
    FetchError,
    MangoRecordings,
    TwilioRecordings,
    ZadarmaRecordings,
)

from .conftest import (
    MANGO_KEY,
    MANGO_SALT,
    PUBLIC_URL,
    TWILIO_TOKEN,
    ZADARMA_SECRET,
    FakeIngest,
    make_settings,
)

SID, ZADARMA_KEY = "AC0123456789abcdef0123456789abcdef", "k4nb0t-zadarma-key"
MP3 = b"ID3\x04\x00" + bytes(range(256)) * 8
TWILIO_RECORDING = (
    f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/RE0123456789abcdef0123456789abcdef"
)


class Notes:
    def __init__(self) -> None:
        self.kept: list[RecordingNotice] = []
        self.failure: BaseException | None = None

    async def __call__(self, notice: RecordingNotice) -> bool:
        if self.failure is not None:
            raise self.failure
        self.kept.append(notice)
        return True


@pytest.fixture
def notes() -> Notes:
    return Notes()


@pytest.fixture
async def hooks(ingest: FakeIngest, notes: Notes) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(ingest=ingest, settings=make_settings(), note=notes)
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_a_twilio_recording_callback_names_the_calls_recording(
    hooks: TestClient[Any, Any], notes: Notes, ingest: FakeIngest
) -> None:
    pairs = [
        ("AccountSid", SID),
        ("CallSid", "CA0001"),
        ("RecordingSid", "RE0123456789abcdef0123456789abcdef"),
        ("RecordingUrl", TWILIO_RECORDING),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", "61"),
    ]
    signature = twilio_signature(PUBLIC_URL + "/hooks/twilio", pairs, TWILIO_TOKEN)
    answer = await hooks.post(
        "/hooks/twilio",
        data=urlencode(pairs),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 200, await answer.text()
    assert notes.kept == [RecordingNotice("twilio", "CA0001", TWILIO_RECORDING)]
    assert ingest.received == []  # a recording callback is no call event
    forged = await hooks.post(
        "/hooks/twilio",
        data=urlencode([*pairs[:3], ("RecordingUrl", "https://evil.example/x"), *pairs[4:]]),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert forged.status == 403 and len(notes.kept) == 1


async def test_a_zadarma_record_notification_names_the_recorded_call(
    hooks: TestClient[Any, Any], notes: Notes
) -> None:
    form = {"event": "NOTIFY_RECORD", "pbx_call_id": "in_0a1b2c", "call_id_with_rec": "1716531234.4567"}
    answer = await hooks.post(
        "/hooks/zadarma", data=form, headers={"Signature": zadarma_signature(form, ZADARMA_SECRET)}
    )
    assert answer.status == 200, await answer.text()
    assert notes.kept == [RecordingNotice("zadarma", "in_0a1b2c", "1716531234.4567")]
    tampered = {**form, "call_id_with_rec": "1716539999.1"}
    refused = await hooks.post(
        "/hooks/zadarma", data=tampered, headers={"Signature": zadarma_signature(form, ZADARMA_SECRET)}
    )
    assert refused.status == 401 and len(notes.kept) == 1


async def test_a_mango_record_added_notification_names_the_entrys_recording(
    hooks: TestClient[Any, Any], notes: Notes
) -> None:
    payload = json.dumps(
        {"entry_id": "MTAxMjM0NTY3ODk6NDAx", "product_id": 4001, "recording_id": "MToxMDA1Mzk4MTpyZWM"}
    )
    form = {"vpbx_api_key": MANGO_KEY, "sign": mango_sign(MANGO_KEY, payload, MANGO_SALT), "json": payload}
    answer = await hooks.post("/hooks/mango/events/record/added", data=form)
    assert answer.status == 200, await answer.text()
    assert notes.kept == [RecordingNotice("mango", "MTAxMjM0NTY3ODk6NDAx", "MToxMDA1Mzk4MTpyZWM")]


async def test_the_crm_away_when_a_recording_is_named_is_a_503_the_pbx_retries(
    hooks: TestClient[Any, Any], notes: Notes
) -> None:
    notes.failure = Unavailable("down")
    form = {"event": "NOTIFY_RECORD", "pbx_call_id": "in_0a1b2c", "call_id_with_rec": "1716531234.4567"}
    answer = await hooks.post(
        "/hooks/zadarma", data=form, headers={"Signature": zadarma_signature(form, ZADARMA_SECRET)}
    )
    assert answer.status == 503


# -- fetching ---------------------------------------------------------------------------------------


async def fetch(fetcher: Fetcher, ref: str) -> Audio:
    async with aiohttp.ClientSession() as session:
        return await fetcher.fetch(session, ref)


async def serve(app: web.Application) -> AsyncIterator[str]:
    server = TestServer(app)
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
async def twilio_api() -> AsyncIterator[str]:
    async def media(request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{SID}:{TWILIO_TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        if request.match_info["sid"] != SID or not request.match_info["file"].endswith(".mp3"):
            return web.json_response({"message": "not found"}, status=404)
        return web.Response(body=MP3, content_type="audio/mpeg")

    app = web.Application()
    app.router.add_get("/2010-04-01/Accounts/{sid}/Recordings/{file}", media)
    async for url in serve(app):
        yield url


async def test_twilio_recordings_are_fetched_as_mp3_with_the_accounts_credentials(twilio_api: str) -> None:
    fetcher = TwilioRecordings(SID, TWILIO_TOKEN, api_url=twilio_api)
    audio = await fetch(fetcher, f"{twilio_api}/2010-04-01/Accounts/{SID}/Recordings/RE42")
    assert (audio.data, audio.mime) == (MP3, "audio/mpeg")
    with pytest.raises(FetchError, match="not a recording of this Twilio account"):
        await fetch(fetcher, f"{twilio_api}/2010-04-01/Accounts/ACother/Recordings/RE42")
    with pytest.raises(FetchError, match="401"):
        await fetch(
            TwilioRecordings(SID, "wrong-token", api_url=twilio_api),
            f"{twilio_api}/2010-04-01/Accounts/{SID}/Recordings/RE42",
        )


@pytest.fixture
async def zadarma_api() -> AsyncIterator[str]:
    base: list[str] = []

    async def request_record(request: web.Request) -> web.Response:
        params = dict(request.query)
        query = urlencode(sorted(params.items()))
        text = "/v1/pbx/record/request/" + query + hashlib.md5(query.encode()).hexdigest()  # noqa: S324
        digest = hmac.new(ZADARMA_SECRET.encode(), text.encode(), hashlib.sha1).hexdigest()
        if (
            request.headers.get("Authorization")
            != f"{ZADARMA_KEY}:{base64.b64encode(digest.encode()).decode()}"
        ):
            return web.json_response({"status": "error", "message": "Not authorized"}, status=401)
        if params.get("call_id") != "1716531234.4567":
            return web.json_response({"status": "error", "message": "Record not found"})
        return web.json_response(
            {
                "status": "success",
                "link": f"{base[0]}/download/rec.mp3",
                "lifetime_till": "2024-05-24 12:00:00",
            }
        )

    async def download(request: web.Request) -> web.Response:
        return web.Response(body=MP3, content_type="audio/mpeg")

    app = web.Application()
    app.router.add_get("/v1/pbx/record/request/", request_record)
    app.router.add_get("/download/rec.mp3", download)
    async for url in serve(app):
        base.append(url)
        yield url


async def test_zadarma_recordings_are_asked_for_by_the_signed_api_then_downloaded(zadarma_api: str) -> None:
    fetcher = ZadarmaRecordings(ZADARMA_KEY, ZADARMA_SECRET, api_url=zadarma_api)
    assert (await fetch(fetcher, "1716531234.4567")).data == MP3
    with pytest.raises(FetchError, match="Record not found"):
        await fetch(fetcher, "1716530000.1")
    with pytest.raises(FetchError, match="401"):
        await fetch(
            ZadarmaRecordings(ZADARMA_KEY, "another-secret-of-20-chars", api_url=zadarma_api),
            "1716531234.4567",
        )


@pytest.fixture
async def mango_api() -> AsyncIterator[str]:
    async def recording(request: web.Request) -> web.StreamResponse:
        form = dict(parse_qsl((await request.read()).decode()))
        if form.get("vpbx_api_key") != MANGO_KEY or form.get("sign") != mango_sign(
            MANGO_KEY, form.get("json", ""), MANGO_SALT
        ):
            return web.json_response({"result": 3102}, status=401)
        command = json.loads(form["json"])
        if command != {"recording_id": "MToxMDA1Mzk4MTpyZWM", "action": "download"}:
            return web.json_response({"result": 3101}, status=404)
        raise web.HTTPFound("/files/rec.mp3")  # Mango answers a download with a redirect to the file

    async def file(request: web.Request) -> web.Response:
        return web.Response(body=MP3, content_type="audio/mp3")

    app = web.Application()
    app.router.add_post("/vpbx/queries/recording/post", recording)
    app.router.add_get("/files/rec.mp3", file)
    async for url in serve(app):
        yield url


async def test_mango_recordings_are_downloaded_by_the_signed_query(mango_api: str) -> None:
    fetcher = MangoRecordings(MANGO_KEY, MANGO_SALT, api_url=f"{mango_api}/vpbx")
    assert (await fetch(fetcher, "MToxMDA1Mzk4MTpyZWM")).data == MP3
    with pytest.raises(FetchError, match="401"):
        await fetch(
            MangoRecordings(MANGO_KEY, "wrong-salt-wrong-salt", api_url=f"{mango_api}/vpbx"),
            "MToxMDA1Mzk4MTpyZWM",
        )


async def test_a_failed_fetch_is_reported_and_a_good_one_kept(zadarma_api: str) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    waiting = [
        Recording(1, "zadarma", "in_1", "1716531234.4567", RecordingState.WAITING, now),
        Recording(2, "zadarma", "in_2", "1716530000.1", RecordingState.WAITING, now),
    ]
    kept: list[tuple[int, bytes]] = []
    failed: list[tuple[int, str]] = []

    async def claim(providers: Any) -> list[Recording]:
        assert list(providers) == ["zadarma"]
        due, waiting[:] = waiting[:], []
        return due

    async def on_fetched(recording: Recording, data: bytes, mime: str | None) -> None:
        kept.append((recording.id, data))

    async def on_failed(recording: Recording, error: str) -> None:
        failed.append((recording.id, error))

    fetchers = {"zadarma": ZadarmaRecordings(ZADARMA_KEY, ZADARMA_SECRET, api_url=zadarma_api)}
    assert await fetch_due(fetchers, claim=claim, fetched=on_fetched, failed=on_failed) == 1
    assert kept == [(1, MP3)] and [(i, "Record not found" in e) for i, e in failed] == [(2, True)]
    assert await fetch_due({}, claim=claim, fetched=on_fetched, failed=on_failed) == 0  # no credentials


def test_mangos_recording_notifications_name_the_entrys_recording_once_it_is_complete() -> None:
    from telephony_bridge.providers.mango import recording_of_mango

    from .conftest import DATA

    completed = json.loads((DATA / "mango" / "recording_completed.json").read_text())
    assert recording_of_mango(completed) == RecordingNotice(
        "mango", "MTAxMjM0NTY3ODk6NDAx", "MToxMDEyMzQ6MTIzNDU2Nzg5OjA="
    )
    assert recording_of_mango({**completed, "recording_state": "Started"}) is None
    summary = json.loads((DATA / "mango" / "inbound_missed_summary.json").read_text())
    assert recording_of_mango(summary) is None


def test_a_zadarma_call_end_names_its_recording_only_when_it_was_recorded() -> None:
    from telephony_bridge.providers.payloads import PayloadError
    from telephony_bridge.providers.zadarma import recording_of_zadarma

    end = {
        "event": "NOTIFY_END",
        "pbx_call_id": "in_0a1b2c",
        "is_recorded": "1",
        "call_id_with_rec": "1716531234.4567",
    }
    assert recording_of_zadarma(end) == RecordingNotice("zadarma", "in_0a1b2c", "1716531234.4567")
    assert recording_of_zadarma({**end, "is_recorded": "0"}) is None
    assert recording_of_zadarma({**end, "event": "NOTIFY_ANSWER"}) is None
    with pytest.raises(PayloadError):
        recording_of_zadarma({**end, "call_id_with_rec": "../../x"})
