"""Calls' recordings: noted when a PBX announces one, fetched by the telephony edge (retried, never in
the way of a call's ingestion), kept in the recordings directory for the retention period, and given
only to those who may see the call's deal."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from crm_core.domain.errors import InvalidInput, NotFound
from crm_core.domain.recordings import (
    MAX_BYTES,
    MAX_REF,
    Recording,
    RecordingFile,
    RecordingNotice,
    RecordingState,
    audio_type,
)
from crm_core.domain.users import User
from crm_core.ports import RecordingFiles
from crm_core.services.base import ServiceBase, require_active
from crm_core.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
EXPIRE_BATCH = 200


@dataclass(frozen=True, slots=True)
class RecordingService(ServiceBase):
    files: RecordingFiles | None = None  # no recordings directory: recordings are noted, never fetched

    @property
    def keeps_files(self) -> bool:
        return self.files is not None

    async def note(self, notice: RecordingNotice) -> bool:
        """Keep a call's recording to fetch (the call may be reported before or after); ``False`` when the
        call has one already."""
        _check(notice)
        async with self.db.uow() as uow:
            added = await uow.recordings.note(notice, at=self.now())
            await uow.commit()
        if added:
            log.info("call %s/%s has a recording to fetch", notice.provider, notice.call_id)
        return added

    async def upload(
        self, *, notice: RecordingNotice, data: bytes, file_name: str | None = None
    ) -> Recording:
        """Keep a recording the telephony edge has in hand (an Asterisk MixMonitor file)."""
        _check(notice)
        if self.files is None:
            raise InvalidInput("recording", notice.call_id[:40], detail="KANBOT_RECORDINGS_DIR is not set")
        async with self.db.uow() as uow:
            await uow.recordings.note(notice, at=self.now())
            recording = await uow.recordings.find(notice.provider, notice.call_id)
            assert recording is not None
            if recording.state is not RecordingState.STORED:
                await self._store(uow, recording, data, file_name, None)
            await uow.commit()
        return recording

    async def claim(self, *, providers: Collection[str], limit: int = 5) -> list[Recording]:
        """The next recordings to fetch from these providers' PBXs, held for the fetcher for a while."""
        if self.files is None:
            return []
        async with self.db.uow() as uow:
            claimed = await uow.recordings.claim(providers=providers, now=self.now(), limit=limit)
            await uow.commit()
        return claimed

    async def fetched(self, *, recording_id: int, data: bytes, mime: str | None) -> Recording:
        """The fetcher has the recording: it goes into the recordings directory."""
        async with self.db.uow() as uow:
            recording = await self._get(uow, recording_id)
            if recording.state is RecordingState.WAITING:
                await self._store(uow, recording, data, None, mime)
                await uow.commit()
        return recording

    async def fetch_failed(self, *, recording_id: int, error: str) -> Recording:
        """A fetch failed: tried again later, or given up after the last attempt."""
        async with self.db.uow() as uow:
            recording = await self._get(uow, recording_id)
            if recording.state is not RecordingState.WAITING:
                return recording
            recording.failed(error, at=self.now())
            await uow.recordings.save(recording)
            await uow.commit()
        level = logging.WARNING if recording.given_up else logging.INFO
        log.log(
            level,
            "recording of call %s/%s not fetched (attempt %d%s): %s",
            recording.provider,
            recording.call_id,
            recording.attempts,
            ", given up" if recording.given_up else "",
            error[:200],
        )
        return recording

    async def expire(self) -> int:
        """Delete the files kept longer than the retention period; each recording says it was deleted."""
        keep_days = self.config.recordings_keep_days
        if self.files is None or keep_days <= 0:
            return 0
        now = self.now()
        async with self.db.uow() as uow:
            old = await uow.recordings.expired(
                stored_before=now - timedelta(days=keep_days), limit=EXPIRE_BATCH
            )
            for recording in old:
                if recording.file_name:
                    await asyncio.to_thread(self.files.delete, recording.file_name)
                recording.deleted(at=now)
                await uow.recordings.save(recording)
            await uow.commit()
        if old:
            log.info("recordings: %d deleted after %d days", len(old), keep_days)
        return len(old)

    async def of_deal(self, *, deal_id: int, actor: User) -> dict[int, Recording]:
        """The recordings of the deal's calls, by call id, if the actor may see the deal."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            deal = await uow.deals.get_visible(deal_id, viewer=actor)
            return await uow.recordings.of_deal(deal.id)

    async def for_listening(self, *, call_id: int, actor: User) -> RecordingFile:
        """A call's recording, for someone who may see the call's deal (a call without a deal: a boss,
        or the seller who took it); anyone else finds no deal, as if there were none."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            call = await uow.calls.get(call_id)
            if call is None:
                raise NotFound("call", call_id)
            title = None
            if call.deal_id is not None:
                title = (await uow.deals.get_visible(call.deal_id, viewer=actor)).title
            elif not actor.is_boss and call.answered_by_id != actor.id:
                raise NotFound("call", call_id)
            recording = await uow.recordings.find(call.provider, call.external_id)
        if recording is None or recording.state is not RecordingState.STORED or not recording.file_name:
            raise NotFound("recording", call_id)
        data = None if self.files is None else await asyncio.to_thread(self.files.read, recording.file_name)
        if data is None:
            raise NotFound("recording", call_id)
        log.info("recording of call %s sent to user %s", call_id, actor.id)
        extension = recording.file_name.rsplit(".", 1)[-1]
        return RecordingFile(
            call_id=call.id,
            data=data,
            file_name=f"call-{call.started_at:%Y%m%d-%H%M}-{call.id}.{extension}",
            mime=recording.mime or "audio/mpeg",
            started_at=call.started_at,
            duration_s=call.duration_s,
            deal_title=title,
        )

    async def _get(self, uow: UnitOfWork, recording_id: int) -> Recording:
        recording = await uow.recordings.get(recording_id)
        if recording is None:
            raise NotFound("recording", recording_id)
        return recording

    async def _store(
        self, uow: UnitOfWork, recording: Recording, data: bytes, name: str | None, mime: str | None
    ) -> None:
        assert self.files is not None
        if not data:
            raise InvalidInput("recording", recording.call_id[:40], detail="the file is empty")
        if len(data) > MAX_BYTES:
            raise InvalidInput("recording", recording.call_id[:40], detail=f"larger than {MAX_BYTES} bytes")
        extension, kind = audio_type(name, mime)
        file_name = f"{recording.id}.{extension}"
        await asyncio.to_thread(self.files.write, file_name, data)
        recording.stored(file_name=file_name, mime=kind, size=len(data), at=self.now())
        await uow.recordings.save(recording)
        log.info("recording of call %s/%s kept (%d bytes)", recording.provider, recording.call_id, len(data))


def _check(notice: RecordingNotice) -> None:
    if not 0 < len(notice.provider) <= 32 or not 0 < len(notice.call_id) <= 128:
        raise InvalidInput("call", notice.call_id[:40], detail="provider 1-32 and call id 1-128 characters")
    if not 0 < len(notice.ref) <= MAX_REF or "\x00" in notice.ref + notice.call_id:
        raise InvalidInput("recording", notice.ref[:40], detail=f"1-{MAX_REF} characters, no NUL")
