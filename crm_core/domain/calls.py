"""A telephone call as the CRM sees it, whatever PBX reported it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class CallDirection(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class CallStatus(enum.StrEnum):
    ANSWERED = "answered"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One call, normalised: what every PBX parser produces and ``ingest_call`` consumes.

    ``ended_at`` is ``None`` while the call is still going on: a PBX that reports the answer
    before the hang-up sends the call twice, first in progress (for the pop-up card), then final.
    Phone numbers are E.164, or ``None`` when the caller hid the number.
    """

    call_id: str
    provider: str
    direction: CallDirection
    status: CallStatus
    caller: str | None
    dialed: str | None
    started_at: datetime
    rang: tuple[str, ...] = ()
    answered_by: str | None = None
    transfers: tuple[str, ...] = ()
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: int | None = None
    raw_caller: str | None = field(default=None, compare=False)

    @property
    def is_final(self) -> bool:
        return self.ended_at is not None

    def to_json(self) -> dict[str, object]:
        """The public JSON shape (``kanbot bridge replay`` lines, ``POST /api/v1/calls`` bodies)."""
        return {
            "call_id": self.call_id,
            "provider": self.provider,
            "direction": self.direction.value,
            "status": self.status.value,
            "caller": self.caller,
            "dialed": self.dialed,
            "rang": list(self.rang),
            "answered_by": self.answered_by,
            "transfers": list(self.transfers),
            "started_at": _iso(self.started_at),
            "answered_at": _iso(self.answered_at),
            "ended_at": _iso(self.ended_at),
            "duration_s": self.duration_s,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What ``ingest_call`` did with one call event."""

    call_id: str
    deal_id: int | None
    created: bool
    duplicate: bool

    def to_json(self) -> dict[str, object]:
        return {
            "call_id": self.call_id,
            "deal_id": self.deal_id,
            "created": self.created,
            "duplicate": self.duplicate,
        }
