"""What the core needs from the world, as small interfaces the edges and tests implement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that only moves when told to: for tests and ``kanbot tick --now``."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> datetime:
        self.current += delta
        return self.current


class RecordingFiles(Protocol):
    """Where calls' recordings are kept (the recordings directory): files by the names the CRM gives."""

    def write(self, name: str, data: bytes) -> None:
        """Keep ``data`` as ``name`` (replacing a file of that name)."""
        ...

    def read(self, name: str) -> bytes | None:
        """The file's bytes, or ``None`` when it is gone."""
        ...

    def delete(self, name: str) -> bool:
        """Delete the file; ``False`` when it was gone already."""
        ...
