"""Deals: a sale on its way through the funnel, and the rules of its moves, closes, reopens and edits.

What happens to a deal is written to its history (``crm_core.domain.history``); its customer is a
``Contact`` (``crm_core.domain.contacts``). The words most callers of a deal need with it are named
here too: ``Actor``, ``DealEvent``, ``EventKind`` and ``Contact``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from crm_core.domain.contacts import Contact
from crm_core.domain.errors import DealClosed, InvalidInput, ReopensElsewhere, Why
from crm_core.domain.funnel import Pipeline, Stage, StageKind
from crm_core.domain.history import Actor, DealEvent, EventKind
from crm_core.domain.horizon import within_horizon
from crm_core.domain.tasks import Task
from crm_core.domain.users import User

# A move back to the stage a deal has just left, this soon, undoes the move (and a reopen this soon
# after the close undoes the close): the deal is as it was before, its time in the stage included.
UNDO_WINDOW = timedelta(hours=24)

# The seller's words for a deal lost for "Other" reasons.
MAX_LOST_NOTE = 180


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
    lost_reason: str | None = None  # one of the configured reasons (or a reason an import brought)
    lost_note: str | None = None  # the seller's own words: what "Other" was
    snoozed_until: datetime | None = None
    version: int = 1
    follow_up_due_at: datetime | None = None  # maintained by storage: when the deal goes stale
    closed_from_stage_id: int | None = None  # won or lost: the open stage it was closed from

    @classmethod
    def start(
        cls,
        *,
        pipeline: Pipeline,
        title: str,
        currency: str,
        at: datetime,
        stage: Stage | None = None,
        source: Source = Source.MANUAL,
        priority: Priority = Priority.NORMAL,
        amount: Decimal | None = None,
        contact: Contact | None = None,
        owner: User | None = None,
        lost_reason: str | None = None,
    ) -> Deal:
        """A new deal, however it comes (the chat, the CLI, a call, an import): in the inbox unless a
        stage is given. Only an import brings a deal that is already closed, as it was elsewhere.
        Once stored (it has its id), ``created_event`` is the first line of its history."""
        target = stage or pipeline.inbox
        if target.pipeline_id != pipeline.id:
            raise InvalidInput("stage", target.name, Why.OTHER_PIPELINE)
        if target.is_closed and source is not Source.IMPORT:
            raise InvalidInput("stage", target.name, Why.STARTS_OPEN)
        if target.kind is StageKind.LOST and not (lost_reason or "").strip():
            raise InvalidInput("lost reason", lost_reason, Why.LOST_NEEDS_REASON)
        return cls(
            id=0,
            pipeline_id=pipeline.id,
            title=title,
            stage=target,
            currency=currency,
            created_at=at,
            stage_entered_at=at,
            last_activity_at=at,
            source=source,
            priority=priority,
            amount=amount,
            contact=contact,
            owner=owner,
            closed_at=at if target.is_closed else None,
            lost_reason=lost_reason if target.kind is StageKind.LOST else None,
        )

    def created_event(self, actor: Actor) -> DealEvent:
        """The first line of the deal's history: everything it started with, so history replays to it."""
        event = DealEvent.new(
            self,
            EventKind.CREATED,
            self.created_at,
            actor,
            title=self.title,
            amount=str(self.amount) if self.amount is not None else None,
            currency=self.currency,
            owner=self.owner_id,
            source=self.source.value,
            priority=self.priority.value,
            lost_reason=self.lost_reason,
        )
        event.to_stage_id = self.stage.id
        return event

    def is_stale(self, now: datetime) -> bool:
        """Past its stage's follow-up since the last activity, not snoozed, no future task."""
        return not self.is_closed and self.follow_up_due_at is not None and self.follow_up_due_at <= now

    @property
    def lost_reason_text(self) -> str | None:
        """The lost reason as one line of plain text (a CSV cell, the CLI): "Other: too expensive"."""
        if self.lost_reason is None:
            return None
        return f"{self.lost_reason}: {self.lost_note}" if self.lost_note else self.lost_reason

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
        self,
        target: Stage,
        *,
        at: datetime,
        actor: Actor,
        lost_reason: str | None = None,
        lost_note: str | None = None,
        undoable: DealEvent | None = None,
    ) -> DealEvent:
        """Put the open deal in ``target``; entering won or lost closes it (a closed deal leaves only by
        ``reopen``). Back to the stage it has just left, within ``UNDO_WINDOW`` of ``undoable`` (the
        move ``last_undoable`` finds in its history), the move is undone: the deal is in the stage
        since it first was, and the undone move was no activity."""
        if target.pipeline_id != self.pipeline_id:
            raise InvalidInput("stage", target.name, Why.OTHER_PIPELINE)
        if target.id == self.stage.id:
            raise InvalidInput("stage", target.name, Why.SAME_STAGE)
        if self.is_closed:
            raise DealClosed(self.id)
        left = {"since": self.stage_entered_at.isoformat(), "active_at": self.last_activity_at.isoformat()}
        if target.kind is StageKind.LOST:
            reason = (lost_reason or "").strip()
            if not reason:
                raise InvalidInput("lost reason", lost_reason, Why.LOST_NEEDS_REASON)
            if len(reason) > 200:
                raise InvalidInput("lost reason", lost_reason, Why.TOO_LONG, most=200)
            note = " ".join((lost_note or "").split()) or None
            if note is not None and len(note) > MAX_LOST_NOTE:
                raise InvalidInput("lost reason", lost_note, Why.TOO_LONG, most=MAX_LOST_NOTE)
            event = self.stage_event(EventKind.LOST, target, at, actor, reason=reason, note=note, **left)
            self.closed_at, self.lost_reason, self.lost_note = at, reason, note
        elif target.kind is StageKind.WON:
            event = self.stage_event(EventKind.WON, target, at, actor, amount=_str(self.amount), **left)
            self.closed_at, self.lost_reason, self.lost_note = at, None, None
        elif undoable is not None and self._undoes(undoable, (EventKind.MOVED,), target, at):
            event = self.stage_event(EventKind.MOVED, target, at, actor)
            event.undoes_id = undoable.id
            self.stage, self.snoozed_until = target, None
            self._restore(undoable)
            return event
        else:
            event = self.stage_event(EventKind.MOVED, target, at, actor, **left)
        if target.is_closed:
            self.closed_from_stage_id = self.stage.id
        self.stage, self.stage_entered_at, self.snoozed_until = target, at, None
        self.touch(at)
        return event

    def change_pipeline(
        self, current: Pipeline, to: Pipeline, *, at: datetime, actor: Actor, stage: Stage | None = None
    ) -> DealEvent:
        """Put the open deal in another pipeline: in ``stage`` (an open stage of ``to``), else in the
        stage at the same place on ``to``'s path (its inbox when there is none). A new start in the
        history: no move before it can be undone across it."""
        if self.is_closed:
            raise DealClosed(self.id)
        if to.id == self.pipeline_id:
            raise InvalidInput("pipeline", to.name, Why.UNCHANGED)
        target = stage or to.counterpart(current, self.stage)
        if target.pipeline_id != to.id:
            raise InvalidInput("stage", target.name, Why.OTHER_PIPELINE)
        if target.is_closed:
            raise InvalidInput("stage", target.name, Why.ARRIVES_OPEN)
        event = self.stage_event(
            EventKind.PIPELINE_CHANGED, target, at, actor, from_pipeline=current.name, to_pipeline=to.name
        )
        self.pipeline_id, self.stage = to.id, target
        self.stage_entered_at, self.snoozed_until = at, None
        self.touch(at)
        return event

    def carry_closed(self, current: Pipeline, to: Pipeline, *, at: datetime, actor: Actor) -> DealEvent:
        """Put the won or lost deal in ``to``'s won or lost stage (its pipeline ``current`` is being
        removed): it stays closed as it was, and would reopen in ``to``'s inbox."""
        if not self.is_closed:
            raise InvalidInput("deal", self.id, Why.NOT_CLOSED)
        target = to.won if self.stage.kind is StageKind.WON else to.lost
        event = self.stage_event(
            EventKind.PIPELINE_CHANGED, target, at, actor, from_pipeline=current.name, to_pipeline=to.name
        )
        self.pipeline_id, self.stage, self.closed_from_stage_id = to.id, target, None
        return event

    def reopen_stage(self, pipeline: Pipeline) -> Stage:
        """Where the closed deal reopens: the open stage it was won or lost from (the inbox when that
        stage is no longer in the funnel, or was never known — a deal imported closed)."""
        if self.closed_from_stage_id is not None:
            for stage in pipeline.stages:
                if stage.id == self.closed_from_stage_id and stage.is_open:
                    return stage
        return pipeline.inbox

    def reopen(
        self,
        pipeline: Pipeline,
        *,
        at: datetime,
        actor: Actor,
        into: Stage | None = None,
        undoable: DealEvent | None = None,
    ) -> DealEvent:
        """Open the won or lost deal again, in the stage it was closed from (``into``, when given, must
        be that stage). Within ``UNDO_WINDOW`` of the close (``undoable``) the close is undone: the
        deal is in the stage since it first was. Its tasks, cancelled by the close, stay cancelled."""
        if not self.is_closed:
            raise InvalidInput("deal", self.id, Why.NOT_CLOSED)
        target = self.reopen_stage(pipeline)
        if into is not None and into.id != target.id:
            if into.is_closed:
                raise DealClosed(self.id)
            raise ReopensElsewhere(self.id, target.name)
        event = self.stage_event(EventKind.REOPENED, target, at, actor)
        undoes = undoable is not None and self._undoes(undoable, (EventKind.WON, EventKind.LOST), target, at)
        self.closed_at, self.lost_reason, self.lost_note, self.closed_from_stage_id = None, None, None, None
        self.stage, self.snoozed_until = target, None
        if undoes and undoable is not None:
            event.undoes_id = undoable.id
            self._restore(undoable)
        else:
            self.stage_entered_at = at
            self.touch(at)
        return event

    def _undoes(self, last: DealEvent, kinds: tuple[EventKind, ...], target: Stage, at: datetime) -> bool:
        """Whether going to ``target`` now undoes ``last``: the deal's latest stage change still standing,
        one of ``kinds``, from ``target`` to where the deal is, at most ``UNDO_WINDOW`` ago."""
        return (
            last.id is not None
            and last.kind in kinds
            and last.undoes_id is None
            and last.deal_id == self.id
            and (last.from_stage_id, last.to_stage_id) == (target.id, self.stage.id)
            and timedelta(0) <= at - last.at <= UNDO_WINDOW
            and "since" in last.data
            and "active_at" in last.data
        )

    def _restore(self, undone: DealEvent) -> None:
        """Back to before ``undone``: in the stage since then, and — unless something else happened
        since (a note, a call) — last active when it was."""
        self.stage_entered_at = datetime.fromisoformat(undone.data["since"])
        if self.last_activity_at <= undone.at:
            self.last_activity_at = datetime.fromisoformat(undone.data["active_at"])

    def close_tasks(self, tasks: Iterable[Task], *, at: datetime, actor: Actor) -> list[DealEvent]:
        """A won or lost deal leaves nothing to do: each open task is cancelled by the close, in the
        history (reopening the deal does not bring them back)."""
        if not self.is_closed:
            raise InvalidInput("deal", self.id, Why.NOT_CLOSED)
        events = []
        for task in tasks:
            if task.deal_id != self.id or not task.is_open:
                continue
            task.cancel(at=at)
            events.append(
                DealEvent.new(
                    self,
                    EventKind.TASK_CANCELLED,
                    at,
                    actor,
                    task_id=task.id,
                    text=task.text,
                    task_kind=task.kind.value,
                    **({"phone": task.phone} if task.phone else {}),
                    closed_as=self.stage.kind.value,
                )
            )
        return events

    def reassign(self, owner: User | None, *, at: datetime, actor: Actor) -> DealEvent:
        """Give the deal to ``owner`` (or to nobody)."""
        if (owner.id if owner else None) == self.owner_id:
            raise InvalidInput("owner", owner.name if owner else None, Why.ALREADY_OWNER)
        if owner is not None and not owner.active:
            raise InvalidInput("owner", owner.name, Why.USER_INACTIVE)
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
            raise InvalidInput(field_name, value, Why.UNCHANGED)
        setattr(self, field_name, value)
        self.touch(at)
        return DealEvent.new(
            self, EventKind.EDITED, at, actor, field=field_name, old=_str(old), new=_str(value)
        )

    def set_priority(self, priority: Priority, *, at: datetime, actor: Actor) -> DealEvent:
        if priority is self.priority:
            raise InvalidInput("priority", priority.value, Why.UNCHANGED)
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
            raise InvalidInput("snooze time", until.isoformat(), Why.NOT_IN_FUTURE)
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
