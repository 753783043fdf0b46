"""A call's recording: where the PBX keeps it, whether the CRM has fetched it, and how long it stays."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_REF = 500  # the recordings table's ref column
MAX_ATTEMPTS = 8  # fetches tried before a recording is given up (over about four hours)
FETCH_LEASE = timedelta(minutes=5)  # a claimed fetch that never reported is tried again after this
MAX_BYTES = 50 * 1024 * 1024  # Telegram sends bots' audio up to 50 MB
AUDIO_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg", "m4a": "audio/mp4"}


class RecordingState(enum.StrEnum):
    WAITING = "waiting"  # the PBX has it; the CRM has not fetched it yet
    STORED = "stored"  # in the recordings directory: "🎧" sends it
    FAILED = "failed"  # every fetch failed: given up
    DELETED = "deleted"  # its retention period passed: the file is gone


@dataclass(frozen=True, slots=True)
class RecordingNotice:
    """A PBX said a call has a recording: ``ref`` is how that PBX finds it again (Twilio's
    ``RecordingUrl``, Zadarma's ``call_id_with_rec``, Mango's ``recording_id``, a file's name)."""

    provider: str
    call_id: str
    ref: str


@dataclass(slots=True)
class Recording:
    id: int
    provider: str
    call_id: str  # the call's id at its PBX (the calls' external_id)
    ref: str
    state: RecordingState
    created_at: datetime
    next_try_at: datetime | None = None
    attempts: int = 0
    file_name: str | None = None
    mime: str | None = None
    size: int | None = None
    stored_at: datetime | None = None
    deleted_at: datetime | None = None
    error: str | None = None

    def stored(self, *, file_name: str, mime: str, size: int, at: datetime) -> None:
        self.state, self.file_name, self.mime, self.size = RecordingState.STORED, file_name, mime, size
        self.stored_at, self.next_try_at, self.error = at, None, None

    def failed(self, error: str, *, at: datetime) -> None:
        """One fetch failed: tried again later (1, 2, 4... minutes), or given up after ``MAX_ATTEMPTS``.

        This back-off stays hand-written, unlike the retry loops (tenacity): it is not a loop but data,
        the recording's ``next_try_at`` in the database, which the scheduler's tick reads. It survives
        a restart, holds for whichever process ticks next, and keeps the domain plain Python.
        """
        self.attempts += 1
        self.error = error[:200]
        if self.attempts >= MAX_ATTEMPTS:
            self.state, self.next_try_at = RecordingState.FAILED, None
        else:
            self.next_try_at = at + timedelta(minutes=2 ** (self.attempts - 1))

    @property
    def given_up(self) -> bool:
        return self.state is RecordingState.FAILED

    def expired(self, *, keep: timedelta, now: datetime) -> bool:
        """Whether a stored recording outlived its retention period."""
        return (
            self.state is RecordingState.STORED
            and self.stored_at is not None
            and self.stored_at <= now - keep
        )

    def deleted(self, *, at: datetime) -> None:
        self.state, self.deleted_at = RecordingState.DELETED, at


def audio_type(name: str | None, mime: str | None) -> tuple[str, str]:
    """The extension and MIME type a recording is kept under, from its name or the type it came with
    (MP3 when neither says: what Twilio, Zadarma and Mango serve)."""
    suffix = (name or "").rsplit(".", 1)[-1].lower() if name and "." in name else ""
    if suffix in AUDIO_TYPES:
        return suffix, AUDIO_TYPES[suffix]
    base = (mime or "").split(";")[0].strip().lower()
    for extension, known in (*AUDIO_TYPES.items(), ("wav", "audio/x-wav"), ("wav", "audio/wave")):
        if base == known:
            return extension, AUDIO_TYPES[extension]
    return "mp3", AUDIO_TYPES["mp3"]


@dataclass(frozen=True, slots=True)
class RecordingFile:
    """A recording to listen to, with what its caption says."""

    call_id: int
    data: bytes
    file_name: str
    mime: str
    started_at: datetime
    duration_s: int | None
    deal_title: str | None
