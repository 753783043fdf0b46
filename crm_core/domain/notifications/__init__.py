"""Notifications: what the system tells a user on its own, in words the chat edge chooses.

Each kind of note has its payload: a frozen dataclass that says what happened in named, typed fields
and travels through the outbox as JSON (``to_json``/``from_json``). The JSON keeps the shape notes
have always had in the outbox, so the rows queued before a release still decode after it.
"""

from crm_core.domain.notifications.calls import (
    CallAnswered,
    CallEnded,
    CallFlood,
    CallMissed,
    CallNotice,
    CallNotPlaced,
    CallUnknown,
    ColleagueCallLine,
    ColleagueCalls,
    MissedCallNotice,
    MissedUnowned,
)
from crm_core.domain.notifications.followups import (
    DealAssigned,
    DealMovedOnBoard,
    Digest,
    Escalated,
    Escalation,
    InviteUsed,
    MorningPlan,
    Nudge,
    StaleReminder,
    TaskDue,
    WebLead,
)
from crm_core.domain.notifications.outbox import (
    PAYLOADS,
    Notification,
    OutboxItem,
    Progress,
    Replaces,
    Shown,
    decode_payload,
    stored,
)
from crm_core.domain.notifications.payload import JSON, BadPayload, NoteKind, NotePayload

__all__ = [
    "JSON",
    "PAYLOADS",
    "BadPayload",
    "CallAnswered",
    "CallEnded",
    "CallFlood",
    "CallMissed",
    "CallNotPlaced",
    "CallNotice",
    "CallUnknown",
    "ColleagueCallLine",
    "ColleagueCalls",
    "DealAssigned",
    "DealMovedOnBoard",
    "Digest",
    "Escalated",
    "Escalation",
    "InviteUsed",
    "MissedCallNotice",
    "MissedUnowned",
    "MorningPlan",
    "NoteKind",
    "NotePayload",
    "Notification",
    "Nudge",
    "OutboxItem",
    "Progress",
    "Replaces",
    "Shown",
    "StaleReminder",
    "TaskDue",
    "WebLead",
    "decode_payload",
    "stored",
]
