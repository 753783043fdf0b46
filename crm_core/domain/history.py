"""A deal's history: append-only events, each saying who did what and when.

The stage events (created, moved, won, lost, reopened) are what a move back or an early reopen undoes.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crm_core.domain.users import User

if TYPE_CHECKING:
    from crm_core.domain.deals import Deal


class EventKind(enum.StrEnum):
    CREATED = "created"
    MOVED = "moved"
    WON = "won"
    LOST = "lost"
    REOPENED = "reopened"
    REASSIGNED = "reassigned"
    EDITED = "edited"
    NOTE = "note"
    CALL = "call"
    CALL_OUTCOME = "call_outcome"
    TASK_CREATED = "task_created"
    TASK_DONE = "task_done"
    TASK_CANCELLED = "task_cancelled"
    SNOOZED = "snoozed"
    PRIORITY_CHANGED = "priority_changed"
    PIPELINE_CHANGED = "pipeline_changed"


STAGE_EVENTS = frozenset(
    {
        EventKind.CREATED,
        EventKind.MOVED,
        EventKind.WON,
        EventKind.LOST,
        EventKind.REOPENED,
        EventKind.PIPELINE_CHANGED,
    }
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something: a user, or the system with what triggered it ("call asterisk:1712", "import")."""

    user: User | None = None
    system: str | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user=user)

    @classmethod
    def system_because(cls, reason: str) -> Actor:
        return cls(system=reason)

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None


@dataclass(slots=True)
class DealEvent:
    """One line of a deal's history; never changed once written."""

    deal_id: int
    kind: EventKind
    at: datetime
    actor_id: int | None = None
    actor_system: str | None = None
    from_stage_id: int | None = None
    to_stage_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    actor_name: str | None = None
    undoes_id: int | None = None  # the stage event this one undoes (a move back, an early reopen)

    @classmethod
    def new(cls, deal: Deal, kind: EventKind, at: datetime, actor: Actor, **data: Any) -> DealEvent:
        return cls(
            deal_id=deal.id,
            kind=kind,
            at=at,
            actor_id=actor.user_id,
            actor_system=actor.system,
            data={k: v for k, v in data.items() if v is not None},
        )


def last_undoable(history: Sequence[DealEvent]) -> DealEvent | None:
    """The stage change a move back (or a reopen) would undo: the latest one still standing.

    ``history`` is the deal's stage events, oldest first. An undo takes its move off the top (so
    ▶ ▶ ◀ ◀ undoes both, each in turn); a reopen that undid nothing, or an admin's move between two
    closed stages, is a new start that nothing before it can be undone across.
    """
    standing: list[DealEvent] = []
    for event in history:
        if event.undoes_id is not None:
            while standing and standing.pop().id != event.undoes_id:
                pass
        elif event.kind in (EventKind.MOVED, EventKind.WON, EventKind.LOST, EventKind.REOPENED):
            standing.append(event)
        elif event.kind in (EventKind.CREATED, EventKind.PIPELINE_CHANGED):
            standing.clear()  # nothing before a new start (or another pipeline's stages) is undone
    return standing[-1] if standing else None
