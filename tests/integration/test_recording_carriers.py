"""How recordings reach the CRM's directory: the worker's tick fetches them from a cloud PBX (a fake
Zadarma) or reads Asterisk's MixMonitor files from a shared directory, and the AMI bridge on the PBX
host uploads the files over the signed API; the tick also deletes the old ones."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from crm_core.adapters.database import Database
from crm_core.adapters.recording_files import DirectoryFiles
from crm_core.config import CrmConfig
from crm_core.domain.recordings import RecordingNotice, RecordingState
from crm_core.ports import FixedClock
from crm_core.services import Crm
from kanbot.recordings import RecordingsTick, build_fetchers, recording_files, recordings_tick
from kanbot.settings import CoreSettings, SettingError
from kanbot.web import _uploader
from telephony_bridge.recordings.api import (
    META_HEADER,
    UPLOAD_PATH,
    CrmRecordings,
    recording_routes,
    signed_headers,
)
from telephony_bridge.recordings.carrier import RecordingCarrier
from telephony_bridge.recordings.mixmonitor import MixMonitorFiles
from telephony_bridge.settings import AmiSettings, DialSettings
from telephony_bridge.signing import HEADER, sign
from tests.integration.support import Team
from tests.integration.test_ingest_call import call

MP3 = b"ID3\x04\x00" + bytes(range(256)) * 8
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(512)
SECRET = "k4nb0t-recordings-secret"
ZADARMA_KEY, ZADARMA_SECRET = "k4nb0t-zadarma-key", "k4nb0t-zadarma-secret-of-20"


@pytest.fixture
def crm_config() -> CrmConfig:
    return CrmConfig(default_region="RU", default_currency="RUB", recordings_keep_days=30)


@pytest.fixture
async def kept(db: Database, clock: FixedClock, crm_config: CrmConfig, tmp_path: Path) -> Crm:
    crm = Crm(db, clock=clock, config=crm_config, recording_files=DirectoryFiles(tmp_path / "kept"))
    await crm.pipelines.seed_defaults()
    return crm


async def state_of(crm: Crm, provider: str, call_id: str) -> RecordingState | None:
    async with crm.db.uow(write=False) as uow:
        recording = await uow.recordings.find(provider, call_id)
    return recording.state if recording else None


@pytest.fixture
async def zadarma_api() -> AsyncIterator[str]:
    base: list[str] = []

    async def request_record(request: web.Request) -> web.Response:
        query = urlencode(sorted(request.query.items()))
        text = "/v1/pbx/record/request/" + query + hashlib.md5(query.encode()).hexdigest()  # noqa: S324
        digest = hmac.new(ZADARMA_SECRET.encode(), text.encode(), hashlib.sha1).hexdigest()
        if (
            request.headers.get("Authorization")
            != f"{ZADARMA_KEY}:{base64.b64encode(digest.encode()).decode()}"
        ):
            return web.json_response({"status": "error", "message": "Not authorized"}, status=401)
        return web.json_response(
            {"status": "success", "link": f"{base[0]}/download/{request.query['call_id']}.mp3"}
        )

    async def download(request: web.Request) -> web.Response:
        return web.Response(body=MP3, content_type="audio/mpeg")

    app = web.Application()
    app.router.add_get("/v1/pbx/record/request/", request_record)
    app.router.add_get("/download/{name}", download)
    server = TestServer(app)
    await server.start_server()
    base.append(str(server.make_url("")).rstrip("/"))
    yield base[0]
    await server.close()


async def test_the_tick_fetches_a_zadarma_recording_and_deletes_it_after_the_retention_period(
    kept: Crm, team: Team, zadarma_api: str, tmp_path: Path
) -> None:
    await kept.calls.ingest_call(call("in_0a1b2c", kept.clock.now()))
    await kept.recordings.note(RecordingNotice("zadarma", "in_0a1b2c", "1716531234.4567"))
    dial = DialSettings(
        _env_file=None,
        zadarma_api_key=ZADARMA_KEY,
        zadarma_secret=ZADARMA_SECRET,
        zadarma_api_url=zadarma_api,
    )  # type: ignore[call-arg]
    nothing = await recordings_tick(kept, build_fetchers(DialSettings(_env_file=None)))  # type: ignore[call-arg]
    assert nothing == RecordingsTick(deleted=0, fetched=0)
    assert (
        await state_of(kept, "zadarma", "in_0a1b2c") is RecordingState.WAITING
    )  # no credentials: not fetched
    assert await recordings_tick(kept, build_fetchers(dial)) == RecordingsTick(deleted=0, fetched=1)
    assert await state_of(kept, "zadarma", "in_0a1b2c") is RecordingState.STORED
    assert [p.read_bytes() for p in (tmp_path / "kept").iterdir()] == [MP3]
    kept.clock.advance(timedelta(days=30))  # type: ignore[attr-defined]
    assert await recordings_tick(kept, build_fetchers(dial)) == RecordingsTick(deleted=1, fetched=0)
    assert await state_of(kept, "zadarma", "in_0a1b2c") is RecordingState.DELETED
    assert list((tmp_path / "kept").iterdir()) == []


def mixmonitor_file(directory: Path, name: str, data: bytes, *, age_s: float = 60) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(data)
    written = time.time() - age_s
    os.utime(path, (written, written))
    return path


async def test_a_crm_sharing_the_pbxs_directory_reads_a_mixmonitor_file_once_it_is_complete(
    kept: Crm, team: Team, tmp_path: Path
) -> None:
    monitor = tmp_path / "monitor"
    ami = AmiSettings(_env_file=None, ami_recordings_dir=monitor)  # type: ignore[call-arg]
    fetchers = build_fetchers(DialSettings(_env_file=None), ami)  # type: ignore[call-arg]
    await kept.calls.ingest_call(call("1716531234.12", kept.clock.now()))
    await kept.recordings.note(RecordingNotice("asterisk", "1716531234.12", "1716531234.12.wav"))
    mixmonitor_file(monitor, "1716531234.12.wav", WAV, age_s=0)  # still being written
    assert (await recordings_tick(kept, fetchers)).fetched == 0
    kept.clock.advance(timedelta(minutes=2))  # type: ignore[attr-defined]
    mixmonitor_file(monitor, "1716531234.12.wav", WAV)
    assert (await recordings_tick(kept, fetchers)).fetched == 1
    async with kept.db.uow(write=False) as uow:
        recording = await uow.recordings.find("asterisk", "1716531234.12")
    assert recording is not None and recording.mime == "audio/wav" and recording.size == len(WAV)


@pytest.fixture
async def crm_url(kept: Crm) -> AsyncIterator[str]:
    app = web.Application()
    app.add_routes(recording_routes(upload=_uploader(kept), secret=SECRET))
    server = TestServer(app)
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def test_the_bridge_carries_a_finished_calls_mixmonitor_file_to_the_crm_even_after_a_restart(
    kept: Crm, team: Team, crm_url: str, tmp_path: Path
) -> None:
    event = call("1716531234.12", kept.clock.now())
    await kept.calls.ingest_call(event)
    files = MixMonitorFiles(tmp_path / "monitor")
    async with aiohttp.ClientSession() as session:
        upload = CrmRecordings(session, crm_url=crm_url, secret=SECRET).upload
        carrier = RecordingCarrier(files, upload)
        carrier.expect(event)
        assert await carrier.carry_due() == 0 and carrier.pending  # no file yet: still expected
        mixmonitor_file(files.directory, "1716531234.12.wav", WAV)
        restarted = RecordingCarrier(files, upload)  # the bridge restarted before carrying it
        assert restarted.recover() == 1
        assert await restarted.carry_due() == 1 and not restarted.pending
        assert await carrier.carry_due() == 1  # the same file twice: the CRM keeps its first
    assert await state_of(kept, "asterisk", "1716531234.12") is RecordingState.STORED
    assert [p.read_bytes() for p in (tmp_path / "kept").iterdir()] == [WAV]


async def test_an_upload_not_signed_with_the_secret_or_not_the_signed_file_is_refused_and_changes_nothing(
    kept: Crm, team: Team, crm_url: str
) -> None:
    notice = RecordingNotice("asterisk", "1716531234.12", "1716531234.12.wav")
    good = signed_headers(notice, WAV, notice.ref, SECRET)
    async with aiohttp.ClientSession() as session:

        async def post(body: bytes, headers: dict[str, str]) -> int:
            async with session.post(crm_url + UPLOAD_PATH, data=body, headers=headers) as answer:
                return answer.status

        assert await post(WAV, signed_headers(notice, WAV, notice.ref, "not-the-secret")) == 401
        other_call = good | {META_HEADER: good[META_HEADER].replace("1716531234.12", "1716531234.99")}
        assert await post(WAV, other_call) == 401  # the call named is signed
        assert await post(WAV[:-1] + b"!", good) == 400  # so is the file: another body is refused
        assert await post(WAV + b"!", good) == 400
        garbage = {META_HEADER: "not json", HEADER: sign(b"not json", SECRET)}
        assert await post(WAV, garbage) == 400
    assert await state_of(kept, "asterisk", "1716531234.12") is None


def test_a_recordings_directory_that_cannot_be_made_stops_start_up_naming_the_setting(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_bytes(b"")
    core = CoreSettings(_env_file=None, recordings_dir=tmp_path / "a-file" / "recordings")  # type: ignore[call-arg]
    with pytest.raises(SettingError, match="KANBOT_RECORDINGS_DIR"):
        recording_files(core)
    made = recording_files(CoreSettings(_env_file=None, recordings_dir=tmp_path / "new" / "dir"))  # type: ignore[call-arg]
    assert made is not None and (tmp_path / "new" / "dir").is_dir()
    assert recording_files(CoreSettings(_env_file=None)) is None  # type: ignore[call-arg]
