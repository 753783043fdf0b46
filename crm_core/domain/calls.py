"""A telephone call as the CRM sees it, whatever PBX reported it."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crm_core.domain.contacts import Contact
from crm_core.domain.deals import Deal
from crm_core.domain.errors import CrmError


class CallDirection(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class CallStatus(enum.StrEnum):
    ANSWERED = "answered"
    MISSED = "missed"


class CallOutcome(enum.StrEnum):
    """How an answered call ended, as the seller tells it."""

    TALKED = "talked"  # then the deal moves on, or gets its next step
    NO_ANSWER = "no_answer"  # a call-back task
    CALL_LATER = "call_later"  # a call-back task, a day later
    NOT_INTERESTED = "not_interested"  # then the deal is lost, with a reason
    NOTE = "note"  # what was said goes in a note

    @property
    def calls_back_after(self) -> timedelta | None:
        """When the call-back this outcome plans is due, relative to the configured call-back delay
        (``None``: no call-back); ``CALL_LATER`` is a day."""
        return {CallOutcome.NO_ANSWER: timedelta(0), CallOutcome.CALL_LATER: timedelta(days=1)}.get(self)


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
    seal: CallSeal | None = field(default=None, compare=False)

    @property
    def is_final(self) -> bool:
        return self.ended_at is not None

    @property
    def did(self) -> str | None:
        """The company's number (DID) an inbound call came in on, E.164; None when the PBX did not say.
        A call from a new number to a DID a pipeline lists opens its deal in that pipeline."""
        return self.dialed if self.direction is CallDirection.INBOUND else None

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


@dataclass(frozen=True, slots=True)
class CallSeal:
    """What a PBX's signature covers of a notification when it does not cover the call's id.

    Zadarma signs ``caller_id + called_did + call_start`` and nothing else: one captured notification
    would sign any call id, extension, outcome and duration. The CRM binds the signed text to the call
    id it first came with (``digest``) and keeps the signed values (``fields``): the text cannot sign
    another call, and a later event of the call must carry the same values.
    """

    signed: str  # the signed text, as the signature's HMAC read it
    fields: tuple[tuple[str, str], ...]  # the signed values by name

    @classmethod
    def of(cls, fields: Mapping[str, str]) -> CallSeal:
        """The seal of these signed values, in the order they are signed."""
        return cls("".join(fields.values()), tuple(fields.items()))

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.signed.encode("utf-8", "surrogateescape")).hexdigest()

    def disagrees_with(self, fields: Mapping[str, str]) -> list[str]:
        """The names whose values differ from ``fields``, in signed order (names only one side has are not
        compared: a call's answer signs ``destination`` where its start and end sign ``called_did``)."""
        return [name for name, value in self.fields if name in fields and fields[name] != value]


class CallSealRefused(CrmError):
    """A call event whose signed part belongs to another call, or differs from its call's first one."""

    code = "seal_refused"

    def __init__(self, call_id: str, reason: str) -> None:
        super().__init__(f"Call {call_id[:40]!r} refused: {reason}.", call_id=call_id, reason=reason)
        self.call_id, self.reason = call_id, reason


@dataclass(frozen=True, slots=True)
class CallFloodRule:
    """When calls from new numbers stop making deals: ``limit`` new numbers within ``window``.

    Past it the calls are still recorded (none is lost), but a missed call from a new number makes no
    deal, call-back or notice: a thousand robocalls would otherwise page a seller a thousand times and
    leave a thousand call-backs. The bosses are told once per flood. ``limit`` 0 switches the rule off.
    """

    limit: int = 30
    window: timedelta = timedelta(minutes=5)

    def holds_back(self, new_numbers_in_window: int) -> bool:
        """Whether one more new number, after ``new_numbers_in_window`` of them, is past the limit."""
        return self.limit > 0 and new_numbers_in_window >= self.limit

    def starts_flood(self, last_held_at: datetime | None, now: datetime) -> bool:
        """Whether a call held back now starts a new flood (none was held back within the window)."""
        return last_held_at is None or last_held_at <= now - self.window


def next_repeat_notice_at(last_notice_due_at: datetime | None, now: datetime, window: timedelta) -> datetime:
    """When the notice of a number's repeated calls goes out: now if no notice about the number was
    due within ``window``, else a window after the last one; the calls between are counted on it."""
    if last_notice_due_at is None or last_notice_due_at <= now - window:
        return now
    return last_notice_due_at + window


@dataclass(slots=True)
class CallRecord:
    id: int
    provider: str
    external_id: str
    direction: CallDirection
    status: CallStatus
    caller: str | None
    answered_by_ext: str | None
    answered_by_id: int | None
    started_at: datetime
    ended_at: datetime | None
    duration_s: int | None
    deal_id: int | None
    held: bool = False
    dialed: str | None = None
    outcome: CallOutcome | None = None

    @property
    def customer(self) -> str | None:
        """The customer's number: who called in, or who was called."""
        return self.dialed if self.direction is CallDirection.OUTBOUND else self.caller

    @property
    def is_final(self) -> bool:
        return self.ended_at is not None


@dataclass(frozen=True, slots=True)
class StoredSeal:
    """A call seal as bound: the call id it belongs to and its signed values."""

    external_id: str
    digest: str
    fields: dict[str, str]


@dataclass(slots=True)
class Caller:
    """Who a number is: their contact (if any), their open deals (most recently active first), and
    when the first of those deals' open tasks is due at the latest (its follow-up depends on it)."""

    contact: Contact | None
    open_deals: list[Deal]
    latest_open_task_due: datetime | None
