"""Asterisk's MixMonitor files in ``KANBOT_AMI_RECORDINGS_DIR``, named after the call.

The dialplan records a call into a file whose name holds the call's id (its ``Linkedid``), as
``KANBOT_AMI_RECORDING_FILE`` says (``{call_id}.wav`` by default: ``MixMonitor(${CHANNEL(linkedid)}.wav)``).
A file is complete when MixMonitor stopped writing it: once it has not changed for ``settle_s``.
Names are made here from the call id, which must look like one (no path can be smuggled in).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from crm_core.domain.recordings import MAX_BYTES, audio_type
from telephony_bridge.recordings.fetchers import Audio, FetchError

_CALL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_template(template: str) -> str:
    """A file name template with ``{call_id}`` and no directory: refused otherwise."""
    if template.count("{call_id}") != 1 or "/" in template or "\\" in template:
        raise ValueError("must hold {call_id} once and name a file, without a directory")
    try:
        template.format(call_id="1716531234.12")
    except (KeyError, IndexError, ValueError):
        raise ValueError("may use only {call_id}") from None
    return template


@dataclass(frozen=True, slots=True)
class MixMonitorFiles:
    directory: Path
    template: str = "{call_id}.wav"
    settle_s: float = 2.0

    def name_for(self, call_id: str) -> str | None:
        """The file the call is recorded into, or ``None`` for a call id that is no Asterisk one."""
        if not _CALL_ID.fullmatch(call_id) or ".." in call_id:
            return None
        return self.template.format(call_id=call_id)

    def complete(self, name: str, *, now: float | None = None) -> bytes | None:
        """The file's bytes once MixMonitor is done with it; ``None`` while it is missing or growing."""
        if Path(name).name != name or name.startswith("."):
            return None
        path = self.directory / name
        try:
            stat = path.stat()
            if stat.st_mtime > (time.time() if now is None else now) - self.settle_s or not stat.st_size:
                return None
            if stat.st_size > MAX_BYTES:
                raise FetchError(f"{name}: larger than {MAX_BYTES} bytes")
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise FetchError(f"{name}: {error.strerror or error}") from None

    def recent(self, within_s: float, *, now: float | None = None) -> list[str]:
        """The call ids of the files written within ``within_s``, oldest first."""
        before, after = self.template.split("{call_id}")
        moment = time.time() if now is None else now
        found: list[tuple[float, str]] = []
        try:
            entries = list(self.directory.iterdir())
        except OSError:
            return []
        for path in entries:
            name = path.name
            if not (name.startswith(before) and name.endswith(after)) or len(name) <= len(before + after):
                continue
            call_id = name[len(before) : len(name) - len(after)]
            try:
                written = path.stat().st_mtime
            except OSError:
                continue
            if self.name_for(call_id) == name and written >= moment - within_s:
                found.append((written, call_id))
        return [call_id for _, call_id in sorted(found)]


@dataclass(frozen=True, slots=True)
class AsteriskRecordings:
    """The "fetcher" of a CRM that shares the PBX's recordings directory: it reads the file."""

    files: MixMonitorFiles
    provider: str = "asterisk"

    async def fetch(self, session: aiohttp.ClientSession, ref: str) -> Audio:
        data = self.files.complete(ref)
        if data is None:
            raise FetchError(f"{ref}: not in {self.files.directory} (yet)")
        return Audio(data, audio_type(ref, None)[1])
