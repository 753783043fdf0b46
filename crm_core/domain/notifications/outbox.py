"""Notes in the outbox: what is queued, what a claim hands the delivery, and every kind's payload type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from crm_core.domain.notifications.calls import (
    CallAnswered,
    CallEnded,
    CallFlood,
    CallMissed,
    CallNotPlaced,
    CallUnknown,
    ColleagueCalls,
    MissedUnowned,
)
from crm_core.domain.notifications.followups import (
    DealAssigned,
    DealMovedOnBoard,
    Digest,
    Escalation,
    InviteUsed,
    MorningPlan,
    Nudge,
    StaleReminder,
    TaskDue,
    WebLead,
)
from crm_core.domain.notifications.payload import JSON, BadPayload, NotePayload
from crm_core.domain.users import User

PAYLOADS: Mapping[str, type[NotePayload]] = {
    cls.KIND: cls
    for cls in (
        DealAssigned,
        DealMovedOnBoard,
        CallAnswered,
        CallUnknown,
        CallMissed,
        MissedUnowned,
        CallEnded,
        CallNotPlaced,
        CallFlood,
        ColleagueCalls,
        StaleReminder,
        Escalation,
        TaskDue,
        MorningPlan,
        Digest,
        Nudge,
        InviteUsed,
        WebLead,
    )
}


def decode_payload(kind: str, data: Mapping[str, Any]) -> NotePayload:
    """The payload of a note of ``kind`` stored as ``data``; ``BadPayload`` if none can be read."""
    payload_type = PAYLOADS.get(kind)
    if payload_type is None:
        raise BadPayload(f"no payload for notification kind {kind!r}")
    try:
        return payload_type.from_json(data)
    except (KeyError, TypeError, ValueError) as error:
        raise BadPayload(f"{kind} payload {dict(data)!r}: {error}") from error


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to one user; its ``payload`` says what happened (its ``kind`` too), never how to
    phrase it.

    ``dedup_key`` makes queueing idempotent: a second note with the same key is dropped.
    ``coalesce_key`` names what the note is about (a caller's repeated calls, a call flood), so that
    later news of the same thing can be counted on the note while it waits instead of queued again.
    ``edits`` names (by its ``dedup_key``) an earlier note whose message this one is shown in: the
    delivery edits that message, or sends anew when it never went out or cannot be edited.
    """

    recipient_id: int
    payload: NotePayload
    dedup_key: str | None = None
    not_before: datetime | None = None
    coalesce_key: str | None = None
    edits: str | None = None

    @property
    def kind(self) -> str:
        return self.payload.KIND


@dataclass(frozen=True, slots=True)
class Shown:
    """Where a delivered notification is in Telegram: its chat and message."""

    chat_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class Progress:
    """How much of a note of several messages went out (a digest's text, then its chart): the
    ``parts_sent``, and where the first is ``shown``. Kept in the stored JSON beside the payload."""

    parts_sent: int = 0
    shown: Shown | None = None

    PARTS_SENT: ClassVar[str] = "_parts_sent"
    SHOWN_IN: ClassVar[str] = "_shown_in"  # [chat, message]

    def to_json(self) -> JSON:
        if not self.parts_sent:
            return {}
        data: JSON = {self.PARTS_SENT: self.parts_sent}
        if self.shown is not None:
            data[self.SHOWN_IN] = [self.shown.chat_id, self.shown.message_id]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Progress:
        shown_in = data.get(cls.SHOWN_IN)
        shown = (
            Shown(shown_in[0], shown_in[1])
            if isinstance(shown_in, list) and len(shown_in) == 2 and all(isinstance(n, int) for n in shown_in)
            else None
        )
        return cls(int(data.get(cls.PARTS_SENT) or 0), shown)


def stored(payload: NotePayload, progress: Progress | None = None) -> JSON:
    """The JSON an outbox row keeps: the payload's, and what of it went out."""
    return payload.to_json() | (progress.to_json() if progress else {})


@dataclass(frozen=True, slots=True)
class Replaces:
    """The earlier notification whose message an item is shown in, as it was when the item was claimed.

    ``shown``: where it went out (``None``: not yet, or never). ``pending_until``: it still waits to go
    out, due then, and the item waits for it; ``None`` with no ``shown``: it was given up, so the item
    is sent anew."""

    item_id: int
    shown: Shown | None
    pending_until: datetime | None


@dataclass(slots=True)
class OutboxItem:
    """A claimed notification, with its recipient as they were when it was claimed.

    ``data`` is the JSON as stored; ``payload`` reads the note's payload from it (``BadPayload`` for a
    row no payload can be read from), ``progress`` what of it went out before."""

    id: int
    recipient: User
    kind: str
    data: JSON
    attempts: int
    created_at: datetime
    replaces: Replaces | None = None

    @property
    def payload(self) -> NotePayload:
        return decode_payload(self.kind, self.data)

    @property
    def progress(self) -> Progress:
        return Progress.from_json(self.data)

    @property
    def recipient_id(self) -> int:
        return self.recipient.id

    @property
    def recipient_telegram_id(self) -> int:
        return self.recipient.telegram_id
