"""Carrying Asterisk's recordings to the CRM from the bridge on the PBX host.

Each answered call's final event (the bridge spools it for the CRM) is expected to leave a MixMonitor
file; once the file is complete it is uploaded (``CrmRecordings.upload``), retried while the CRM is
away, and forgotten after ``give_up_s`` when no file comes (the call was not recorded). At start the
files of the last ``give_up_s`` are offered again: what a restart interrupted is carried still (the
CRM keeps a call's first recording, so twice is harmless).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from crm_core.domain.calls import CallEvent, CallStatus
from crm_core.domain.recordings import RecordingNotice
from telephony_bridge.recordings.fetchers import FetchError
from telephony_bridge.recordings.mixmonitor import MixMonitorFiles

_log = logging.getLogger("telephony_bridge.recordings")
Upload = Callable[[RecordingNotice, bytes, str | None], Awaitable[None]]


class RecordingCarrier:
    def __init__(
        self,
        files: MixMonitorFiles,
        upload: Upload,
        *,
        provider: str = "asterisk",
        give_up_s: float = 3600.0,
        poll_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.files, self._upload, self.provider = files, upload, provider
        self._give_up_s, self._poll_s, self._clock = give_up_s, poll_s, clock
        self.pending: dict[str, float] = {}  # call id -> when it was expected
        self.carried = 0

    def expect(self, event: CallEvent) -> None:
        """An answered call ended: its recording is looked for."""
        if event.is_final and event.status is CallStatus.ANSWERED and self.files.name_for(event.call_id):
            self.pending.setdefault(event.call_id, self._clock())

    def recover(self) -> int:
        """Offer again the files written within ``give_up_s`` (a restart may have cut their upload)."""
        now = self._clock()
        for call_id in self.files.recent(self._give_up_s, now=now):
            self.pending.setdefault(call_id, now)
        return len(self.pending)

    async def carry_due(self) -> int:
        """Upload every recording that is complete now; how many went to the CRM."""
        now, carried = self._clock(), 0
        for call_id, since in list(self.pending.items()):
            name = self.files.name_for(call_id)
            assert name is not None
            try:
                data = self.files.complete(name, now=now)
            except FetchError as error:
                _log.error("recording of call %s cannot be read: %s", call_id, error)
                del self.pending[call_id]
                continue
            if data is None:
                if now - since > self._give_up_s:
                    _log.info("call %s left no recording in %s", call_id, self.files.directory)
                    del self.pending[call_id]
                continue
            try:
                await self._upload(RecordingNotice(self.provider, call_id, name), data, name)
            except ConnectionError as error:
                _log.warning("recording of call %s not carried (%s); will retry", call_id, error)
                break  # the CRM is away: the rest wait too
            except ValueError as error:
                _log.error("the CRM refused the recording of call %s for good: %s", call_id, error)
                del self.pending[call_id]
                continue
            del self.pending[call_id]
            carried += 1
        self.carried += carried
        return carried

    async def run(self, stop: asyncio.Event) -> None:
        """Carry recordings until ``stop``; a failure is logged and retried, never fatal."""
        while not stop.is_set():
            try:
                await self.carry_due()
            except Exception:
                _log.exception("could not carry recordings; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._poll_s)
