"""Tasks: a call back, a follow-up, anything a seller promised to do by a time."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from crm_core.domain.errors import InvalidInput, Why

MAX_TASK_TEXT = 500


class TaskKind(enum.StrEnum):
    """What a task is about. A call-back is planned by the system (from a missed call); the others by
    a person: "custom" is a task in its own words; call, meeting, e-mail and other are what a
    reminder is about, its words optional; "follow_up" is what reminders were before they had a kind."""

    CALL_BACK = "call_back"
    FOLLOW_UP = "follow_up"
    CUSTOM = "custom"
    CALL = "call"
    MEETING = "meeting"
    EMAIL = "email"
    OTHER = "other"

    @property
    def needs_words(self) -> bool:
        """Whether the task is nothing without its words (a custom task); a kind says enough alone."""
        return self is TaskKind.CUSTOM


# What a person picks a reminder to be about, in the order offered.
REMINDER_KINDS = (TaskKind.CALL, TaskKind.MEETING, TaskKind.EMAIL, TaskKind.OTHER)


@dataclass(slots=True)
class Task:
    id: int
    deal_id: int
    assignee_id: int | None
    due_at: datetime
    text: str
    kind: TaskKind
    created_at: datetime
    created_by_id: int | None = None
    done_at: datetime | None = None  # done, or cancelled: no longer to do
    deal_title: str | None = None
    assignee_name: str | None = None
    cancelled_at: datetime | None = None  # its deal was won or lost before it was done
    deal_closed: bool = False  # its deal is won or lost (as read with the task)
    phone: str | None = None  # a call-back's number (E.164): what the task is about, as data
    attempts: int = 0  # calls to a call-back's number that did not connect

    @property
    def is_call_back(self) -> bool:
        return self.kind is TaskKind.CALL_BACK

    @property
    def is_open(self) -> bool:
        """Still to do: not done, not cancelled, and its deal is open (a closed deal has no tasks)."""
        return self.done_at is None and not self.deal_closed

    def cancel(self, *, at: datetime) -> None:
        """The deal closed before the task was done: it is no longer to do."""
        if self.done_at is not None:
            raise InvalidInput("task", self.id, Why.ALREADY_DONE)
        self.done_at = self.cancelled_at = at

    def count_attempt(self) -> None:
        """A call to the call-back's number did not connect: one more attempt, the task stays open."""
        self.attempts += 1

    def done_by_call(self, *, at: datetime) -> None:
        """The customer was reached: the call-back is done by itself."""
        self.check_open()
        self.done_at = at

    def check_open(self) -> None:
        """Refuse to act on a task that is no longer to do, saying why."""
        if self.cancelled_at is not None or (self.deal_closed and self.done_at is None):
            raise InvalidInput("task", self.id, Why.CANCELLED_BY_CLOSE)
        if self.done_at is not None:
            raise InvalidInput("task", self.id, Why.ALREADY_DONE)

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and self.due_at <= now


def valid_task_text(raw: str, kind: TaskKind = TaskKind.CUSTOM) -> str:
    """The task's words, trimmed: required for a custom task, optional for one whose kind says what
    it is ("" then)."""
    text = raw.strip()
    if (kind.needs_words and not text) or len(text) > MAX_TASK_TEXT:
        raise InvalidInput("task text", raw, Why.LENGTH, most=MAX_TASK_TEXT)
    return text
