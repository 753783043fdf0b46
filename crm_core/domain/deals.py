"""Deals, their contacts, and the append-only history of everything that happens to them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from crm_core.domain.errors import DealClosed, InvalidInput
from crm_core.domain.funnel import Stage, StageKind
from crm_core.domain.horizon import within_horizon
from crm_core.domain.users import User


class Source(enum.StrEnum):
    MANUAL = "manual"
    CALL = "call"
    MISSED_CALL = "missed_call"
    IMPORT = "import"
    API = "api"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


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
    TASK_CREATED = "task_created"
    TASK_DONE = "task_done"
    SNOOZED = "snoozed"
    PRIORITY_CHANGED = "priority_changed"


STAGE_EVENTS = frozenset(
    {EventKind.CREATED, EventKind.MOVED, EventKind.WON, EventKind.LOST, EventKind.REOPENED}
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
class Contact:
    id: int
    name: str | None
    phone: str | None
    company: str | None = None


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


@dataclass(slots=True)
class Deal:
    """A sale on its way through the funnel."""

    id: int
    pipeline_id: int
    title: str
    stage: Stage
    currency: str
    created_at: datetime
    stage_entered_at: datetime
    last_activity_at: datetime
    source: Source = Source.MANUAL
    priority: Priority = Priority.NORMAL
    amount: Decimal | None = None
    contact: Contact | None = None
    owner: User | None = None
    closed_at: datetime | None = None
    lost_reason: str | None = None
    snoozed_until: datetime | None = None
    version: int = 1
    follow_up_due_at: datetime | None = None  # maintained by storage: when the deal goes stale

    def is_stale(self, now: datetime) -> bool:
        """Past its stage's follow-up since the last activity, not snoozed, no future task."""
        return not self.is_closed and self.follow_up_due_at is not None and self.follow_up_due_at <= now

    @property
    def is_closed(self) -> bool:
        return self.stage.is_closed

    @property
    def owner_id(self) -> int | None:
        return self.owner.id if self.owner else None

    def stage_event(self, kind: EventKind, to: Stage, at: datetime, actor: Actor, **data: Any) -> DealEvent:
        event = DealEvent.new(self, kind, at, actor, **data)
        event.from_stage_id, event.to_stage_id = self.stage.id, to.id
        return event

    def move_to(
        self, target: Stage, *, at: datetime, actor: Actor, lost_reason: str | None = None
    ) -> DealEvent:
        """Put the deal in ``target``; leaving won or lost reopens it, entering them closes it."""
        if target.pipeline_id != self.pipeline_id:
            raise InvalidInput("stage", target.name, "it belongs to another pipeline")
        if target.id == self.stage.id:
            raise InvalidInput("stage", target.name, "the deal is already in this stage")
        if self.is_closed and target.is_closed:
            raise DealClosed(self.id)
        if target.kind is StageKind.LOST:
            reason = (lost_reason or "").strip()
            if not reason:
                raise InvalidInput("lost reason", lost_reason, "a deal is lost for a reason")
            if len(reason) > 200:
                raise InvalidInput("lost reason", lost_reason, "at most 200 characters")
            event = self.stage_event(EventKind.LOST, target, at, actor, reason=reason)
            self.closed_at, self.lost_reason = at, reason
        elif target.kind is StageKind.WON:
            event = self.stage_event(EventKind.WON, target, at, actor, amount=_str(self.amount))
            self.closed_at, self.lost_reason = at, None
        elif self.is_closed:
            event = self.stage_event(EventKind.REOPENED, target, at, actor)
            self.closed_at, self.lost_reason = None, None
        else:
            event = self.stage_event(EventKind.MOVED, target, at, actor)
        self.stage, self.stage_entered_at, self.snoozed_until = target, at, None
        self.touch(at)
        return event

    def reassign(self, owner: User | None, *, at: datetime, actor: Actor) -> DealEvent:
        """Give the deal to ``owner`` (or to nobody)."""
        if (owner.id if owner else None) == self.owner_id:
            raise InvalidInput("owner", owner.name if owner else None, "the deal already belongs there")
        if owner is not None and not owner.active:
            raise InvalidInput("owner", owner.name, "this user is deactivated")
        event = DealEvent.new(
            self,
            EventKind.REASSIGNED,
            at,
            actor,
            from_owner=self.owner_id,
            to_owner=owner.id if owner else None,
            to_owner_name=owner.name if owner else None,
        )
        self.owner = owner
        self.touch(at)
        return event

    def edit(self, field_name: str, value: Any, *, at: datetime, actor: Actor) -> DealEvent:
        """Change one editable field, recording its old and new value."""
        old = getattr(self, field_name)
        if old == value:
            raise InvalidInput(field_name, value, "nothing changed")
        setattr(self, field_name, value)
        self.touch(at)
        return DealEvent.new(
            self, EventKind.EDITED, at, actor, field=field_name, old=_str(old), new=_str(value)
        )

    def set_priority(self, priority: Priority, *, at: datetime, actor: Actor) -> DealEvent:
        if priority is self.priority:
            raise InvalidInput("priority", priority.value, "nothing changed")
        event = DealEvent.new(
            self, EventKind.PRIORITY_CHANGED, at, actor, old=self.priority.value, new=priority.value
        )
        self.priority = priority
        return event

    def snooze(self, until: datetime, *, at: datetime, actor: Actor, reason: str | None = None) -> DealEvent:
        """Quiet the deal's reminders until ``until``."""
        if self.is_closed:
            raise DealClosed(self.id)
        within_horizon("snooze time", until, now=at)
        if until <= at:
            raise InvalidInput("snooze time", until.isoformat(), "it must be in the future")
        self.snoozed_until = until
        return DealEvent.new(self, EventKind.SNOOZED, at, actor, until=until.isoformat(), reason=reason)

    def touch(self, at: datetime) -> None:
        """Record activity: a stale deal stops being stale."""
        self.last_activity_at = max(self.last_activity_at, at)


def _str(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, Contact):
        return value.name or value.phone
    return str(value)
