"""Notifications: what the system tells a user on its own, in words the chat edge chooses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm_core.domain.users import User


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to one user; ``kind`` and ``payload`` say what happened, never how to phrase it.

    ``dedup_key`` makes queueing idempotent: a second note with the same key is dropped.
    ``coalesce_key`` names what the note is about (a caller's repeated calls, a call flood), so that
    later news of the same thing can be counted on the note while it waits instead of queued again.
    ``edits`` names (by its ``dedup_key``) an earlier note whose message this one is shown in: the
    delivery edits that message, or sends anew when it never went out or cannot be edited.
    """

    recipient_id: int
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    dedup_key: str | None = None
    not_before: datetime | None = None
    coalesce_key: str | None = None
    edits: str | None = None


class NoteKind:
    DEAL_ASSIGNED = "deal_assigned"
    CALL_ANSWERED = "call_answered"
    CALL_ENDED = "call_ended"
    CALL_MISSED = "call_missed"
    MISSED_UNOWNED = "missed_unowned"
    CALL_UNKNOWN = "call_unknown"
    CALL_NOT_PLACED = "call_not_placed"
    CALL_FLOOD = "call_flood"
    COLLEAGUE_CALLS = "colleague_calls"
    STALE_REMINDER = "stale_reminder"
    ESCALATION = "escalation"
    TASK_DUE = "task_due"
    MORNING_PLAN = "morning_plan"
    INVITE_USED = "invite_used"
    DIGEST = "digest"
    NUDGE = "nudge"
    DEAL_MOVED_ON_BOARD = "deal_moved_on_board"


@dataclass(frozen=True, slots=True)
class Shown:
    """Where a delivered notification is in Telegram: its chat and message."""

    chat_id: int
    message_id: int


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
    """A claimed notification, with its recipient as they were when it was claimed."""

    id: int
    recipient: User
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    replaces: Replaces | None = None

    @property
    def recipient_id(self) -> int:
        return self.recipient.id

    @property
    def recipient_telegram_id(self) -> int:
        return self.recipient.telegram_id
