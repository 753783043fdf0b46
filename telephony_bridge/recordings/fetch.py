"""Fetching the recordings the CRM waits for: claim the next ones, fetch each from its PBX, report.

``claim``, ``fetched`` and ``failed`` are the CRM's (``RecordingService``): a claimed recording that is
never reported (the process died) is claimed again after its lease; a failed fetch is tried again
later. Only the providers whose credentials are set are claimed: without them nothing is fetched.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping

import aiohttp

from crm_core.domain.errors import InvalidInput
from crm_core.domain.recordings import Recording
from telephony_bridge.recordings.fetchers import Fetcher, FetchError

_log = logging.getLogger("telephony_bridge.recordings")
Claim = Callable[[Collection[str]], Awaitable[list[Recording]]]
Fetched = Callable[[Recording, bytes, str | None], Awaitable[object]]
Failed = Callable[[Recording, str], Awaitable[object]]


async def fetch_due(
    fetchers: Mapping[str, Fetcher], *, claim: Claim, fetched: Fetched, failed: Failed, most: int = 50
) -> int:
    """Fetch what is due now (at most ``most``); how many recordings were kept."""
    if not fetchers:
        return 0
    kept = tried = 0
    async with aiohttp.ClientSession() as session:
        while tried < most and (due := await claim(list(fetchers))):
            for recording in due:
                tried += 1
                try:
                    audio = await fetchers[recording.provider].fetch(session, recording.ref)
                except FetchError as error:
                    await failed(recording, str(error))
                    continue
                try:
                    await fetched(recording, audio.data, audio.mime)
                except InvalidInput as error:  # the CRM will not keep it as it came: tried again later
                    await failed(recording, str(error))
                    continue
                kept += 1
    if kept:
        _log.info("recordings: %d fetched", kept)
    return kept
