"""Tasks: a call back, a follow-up, anything a seller promised to do by a time."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from crm_core.domain.errors import InvalidInput

MAX_TASK_TEXT = 500


class TaskKind(enum.StrEnum):
    CALL_BACK = "call_back"
    FOLLOW_UP = "follow_up"
    CUSTOM = "custom"


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
    done_at: datetime | None = None
    deal_title: str | None = None
    assignee_name: str | None = None

    @property
    def is_open(self) -> bool:
        return self.done_at is None

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and self.due_at <= now


def valid_task_text(raw: str) -> str:
    text = raw.strip()
    if not text or len(text) > MAX_TASK_TEXT:
        raise InvalidInput("task text", raw, f"1 to {MAX_TASK_TEXT} characters")
    return text
