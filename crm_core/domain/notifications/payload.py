"""What every note's payload is: a frozen dataclass per kind, read from and written to its JSON."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Self, TypeAlias

JSON: TypeAlias = dict[str, Any]


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
    WEB_LEAD = "web_lead"


class BadPayload(ValueError):
    """A stored note that no payload of its kind can be read from (an unknown kind, a missing field)."""


def opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))


def opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def int_list(values: object) -> tuple[int, ...]:
    return tuple(int(str(v)) for v in json_list(values))


def str_list(values: object) -> tuple[str, ...]:
    return tuple(str(v) for v in json_list(values))


def json_list(values: object) -> list[Any]:
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        raise BadPayload(f"a list expected, not {values!r}")
    return list(values)


class NotePayload(ABC):
    """What a note of ``KIND`` says; subclasses are frozen dataclasses, one per kind."""

    __slots__ = ()
    KIND: ClassVar[str]

    @abstractmethod
    def to_json(self) -> JSON: ...

    @classmethod
    @abstractmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self: ...
