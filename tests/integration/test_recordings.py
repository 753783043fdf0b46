"""Calls' recordings: noted when a PBX announces one (before or after the call), fetched with retries,
kept in the recordings directory for the retention period, and given only to those who may see the deal."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from crm_core.adapters.database import Database
from crm_core.adapters.recording_files import DirectoryFiles
from crm_core.config import CrmConfig
from crm_core.domain.errors import NotFound
from crm_core.domain.recordings import MAX_ATTEMPTS, RecordingNotice, RecordingState
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.integration.support import Team
from tests.integration.test_ingest_call import call

AUDIO = b"ID3\x03\x00\x00\x00" + bytes(range(256)) * 4


@pytest.fixture
def crm_config() -> CrmConfig:
    return CrmConfig(default_region="RU", default_currency="RUB", recordings_keep_days=30)


@pytest.fixture
async def kept(db: Database, clock: FixedClock, crm_config: CrmConfig, tmp_path: Path) -> Crm:
    crm = Crm(db, clock=clock, config=crm_config, recording_files=DirectoryFiles(tmp_path / "recordings"))
    await crm.pipelines.seed_defaults()
    return crm


async def _recorded_call(crm: Crm, call_id: str = "c1", *, answered_by: str = "101") -> int:
    """An answered call from a new number (a deal for its seller) whose PBX announced a recording."""
    await crm.calls.ingest_call(call(call_id, crm.clock.now(), answered_by=answered_by, rang=(answered_by,)))
    await crm.recordings.note(RecordingNotice("asterisk", call_id, f"https://pbx.example/{call_id}.mp3"))
    async with crm.db.uow(write=False) as uow:
        found = await uow.calls.find("asterisk", call_id)
    assert found is not None and found.deal_id is not None
    return found.id


async def _fetch_all(crm: Crm) -> None:
    for recording in await crm.recordings.claim(providers=["asterisk"]):
        await crm.recordings.fetched(recording_id=recording.id, data=AUDIO, mime="audio/mpeg")


async def test_a_fetched_recording_goes_to_the_deals_owner_and_a_boss_and_to_no_other_seller(
    kept: Crm, team: Team
) -> None:
    call_id = await _recorded_call(kept)
    await _fetch_all(kept)
    for viewer in (team.alice, team.boss):
        audio = await kept.recordings.for_listening(call_id=call_id, actor=viewer)
        assert audio.data == AUDIO and audio.mime == "audio/mpeg" and audio.file_name.endswith(".mp3")
    with pytest.raises(NotFound) as refused:
        await kept.recordings.for_listening(call_id=call_id, actor=team.bob)
    assert refused.value.code == "deal_not_found"  # the same as for the deal itself
    with pytest.raises(NotFound):
        await kept.recordings.for_listening(call_id=call_id + 999, actor=team.boss)


async def test_a_recording_announced_before_its_call_joins_the_call(kept: Crm, team: Team) -> None:
    await kept.recordings.note(RecordingNotice("asterisk", "early", "ref-1"))
    assert not await kept.recordings.note(RecordingNotice("asterisk", "early", "ref-2"))  # the first stays
    await kept.calls.ingest_call(call("early", kept.clock.now()))
    [recording] = await kept.recordings.claim(providers=["asterisk"])
    assert recording.ref == "ref-1"
    await kept.recordings.fetched(recording_id=recording.id, data=AUDIO, mime=None)
    async with kept.db.uow(write=False) as uow:
        found = await uow.calls.find("asterisk", "early")
    assert found is not None and found.deal_id is not None
    states = await kept.recordings.of_deal(deal_id=found.deal_id, actor=team.alice)
    assert states[found.id].state is RecordingState.STORED
    with pytest.raises(NotFound):
        await kept.recordings.of_deal(deal_id=found.deal_id, actor=team.bob)


async def test_only_the_providers_with_credentials_are_claimed_and_a_claim_is_held(
    kept: Crm, team: Team
) -> None:
    await _recorded_call(kept)
    assert await kept.recordings.claim(providers=["twilio"]) == []
    [claimed] = await kept.recordings.claim(providers=["asterisk"])
    assert await kept.recordings.claim(providers=["asterisk"]) == []  # held by the first fetcher
    kept.clock.advance(timedelta(minutes=6))  # type: ignore[attr-defined]
    [again] = await kept.recordings.claim(providers=["asterisk"])  # that fetcher died: taken over
    assert again.id == claimed.id


async def test_without_a_recordings_directory_nothing_is_fetched(crm: Crm, team: Team) -> None:
    await _recorded_call(crm)
    assert await crm.recordings.claim(providers=["asterisk"]) == []


async def test_failed_fetches_are_retried_later_and_then_given_up(kept: Crm, team: Team) -> None:
    await _recorded_call(kept)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        [recording] = await kept.recordings.claim(providers=["asterisk"])
        failed = await kept.recordings.fetch_failed(recording_id=recording.id, error="HTTP 503")
        assert failed.attempts == attempt
        assert await kept.recordings.claim(providers=["asterisk"]) == []  # not before its next try
        kept.clock.advance(timedelta(minutes=2**attempt))  # type: ignore[attr-defined]
    assert failed.state is RecordingState.FAILED
    assert await kept.recordings.claim(providers=["asterisk"]) == []


async def test_the_tick_deletes_recordings_past_the_retention_period_and_says_so(
    kept: Crm, team: Team, tmp_path: Path
) -> None:
    call_id = await _recorded_call(kept)
    await _fetch_all(kept)
    assert len(list((tmp_path / "recordings").iterdir())) == 1
    kept.clock.advance(timedelta(days=29))  # type: ignore[attr-defined]
    assert await kept.recordings.expire() == 0
    kept.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    assert await kept.recordings.expire() == 1
    assert list((tmp_path / "recordings").iterdir()) == []
    async with kept.db.uow(write=False) as uow:
        found = await uow.calls.get(call_id)
        assert found is not None and found.deal_id is not None
        recording = (await uow.recordings.of_deal(found.deal_id))[call_id]
    assert recording.state is RecordingState.DELETED and recording.deleted_at == kept.clock.now()
    with pytest.raises(NotFound):
        await kept.recordings.for_listening(call_id=call_id, actor=team.alice)


async def test_an_uploaded_file_is_kept_under_a_name_the_crm_gives(
    kept: Crm, team: Team, tmp_path: Path
) -> None:
    await kept.calls.ingest_call(call("1700000000.42", kept.clock.now()))
    notice = RecordingNotice("asterisk", "1700000000.42", "../../etc/passwd.wav")
    recording = await kept.recordings.upload(notice=notice, data=b"RIFF....WAVEfmt ", file_name="../x.wav")
    assert recording.state is RecordingState.STORED and recording.mime == "audio/wav"
    assert [p.name for p in (tmp_path / "recordings").iterdir()] == [f"{recording.id}.wav"]
