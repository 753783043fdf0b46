"""Wiring of calls' recordings: the fetchers whose credentials are set, and the worker's tick that
deletes old recordings and fetches the new ones."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

from crm_core.adapters.recording_files import DirectoryFiles
from crm_core.domain.recordings import Recording
from crm_core.services import Crm
from kanbot.settings import CoreSettings, SettingError
from telephony_bridge.recordings.fetch import fetch_due
from telephony_bridge.recordings.fetchers import Fetcher, MangoRecordings, TwilioRecordings, ZadarmaRecordings
from telephony_bridge.recordings.mixmonitor import AsteriskRecordings
from telephony_bridge.settings import AmiSettings, DialSettings

log = logging.getLogger(__name__)


def recording_files(settings: CoreSettings) -> DirectoryFiles | None:
    """The recordings directory (made if missing), or ``None`` when ``KANBOT_RECORDINGS_DIR`` is unset;
    a directory that cannot be made or written stops start-up, naming the setting."""
    directory = settings.recordings_dir
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".kanbot-write-check"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise SettingError(
            "KANBOT_RECORDINGS_DIR", f"{directory} is not a writable directory ({error.strerror or error})"
        ) from None
    return DirectoryFiles(directory)


def build_fetchers(settings: DialSettings, ami: AmiSettings | None = None) -> dict[str, Fetcher]:
    """A fetcher for each cloud PBX whose API credentials are set (none: nothing is fetched from it), and
    a reader of Asterisk's MixMonitor files when this process shares their directory."""
    fetchers: list[Fetcher] = []
    files = ami.mixmonitor() if ami is not None else None
    if files is not None:
        fetchers.append(AsteriskRecordings(files))
    if settings.twilio_account_sid and settings.twilio_auth_token:
        token = settings.twilio_auth_token.get_secret_value()
        fetchers.append(TwilioRecordings(settings.twilio_account_sid, token, api_url=settings.twilio_api_url))
    if settings.zadarma_api_key and settings.zadarma_secret:
        secret = settings.zadarma_secret.get_secret_value()
        fetchers.append(ZadarmaRecordings(settings.zadarma_api_key, secret, api_url=settings.zadarma_api_url))
    if settings.mango_api_key and settings.mango_api_salt:
        key, salt = settings.mango_api_key.get_secret_value(), settings.mango_api_salt.get_secret_value()
        fetchers.append(MangoRecordings(key, salt, api_url=settings.mango_api_url))
    return {fetcher.provider: fetcher for fetcher in fetchers}


@dataclass(frozen=True, slots=True)
class RecordingsTick:
    """What one pass of the recordings' job did."""

    deleted: int  # files past the retention period, deleted
    fetched: int  # recordings fetched from their PBX and kept


async def recordings_tick(crm: Crm, fetchers: dict[str, Fetcher]) -> RecordingsTick:
    """Delete the recordings past their retention period, then fetch those due."""
    deleted = await crm.recordings.expire()
    if not crm.recordings.keeps_files:
        return RecordingsTick(deleted=deleted, fetched=0)

    async def fetched(recording: Recording, data: bytes, mime: str | None) -> None:
        await crm.recordings.fetched(recording_id=recording.id, data=data, mime=mime)

    async def failed(recording: Recording, error: str) -> None:
        await crm.recordings.fetch_failed(recording_id=recording.id, error=error)

    async def claim(providers: Collection[str]) -> list[Recording]:
        return await crm.recordings.claim(providers=providers)

    kept = await fetch_due(fetchers, claim=claim, fetched=fetched, failed=failed)
    return RecordingsTick(deleted=deleted, fetched=kept)
