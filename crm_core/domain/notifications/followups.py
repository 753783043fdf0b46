"""The payloads of the notes about deals, follow-ups and the team."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Self

from crm_core.domain.notifications.payload import (
    JSON,
    NoteKind,
    NotePayload,
    int_list,
    json_list,
    opt_int,
    opt_str,
    str_list,
)
from crm_core.domain.users import Role


@dataclass(frozen=True, slots=True, kw_only=True)
class DealAssigned(NotePayload):
    """A deal given to the recipient (``deal_id``, by ``by_name`` or the system), or ``count`` deals
    handed over from a deactivated colleague (``from_name``)."""

    KIND: ClassVar[str] = NoteKind.DEAL_ASSIGNED
    deal_id: int | None = None
    by_name: str | None = None
    count: int | None = None
    from_name: str | None = None

    def __post_init__(self) -> None:
        if (self.deal_id is None) == (self.count is None):
            raise ValueError("a deal assigned names one deal, or the count of deals handed over")

    def to_json(self) -> JSON:
        if self.count is not None:
            return {"count": self.count, "from_name": self.from_name}
        return {"deal_id": self.deal_id, "by_name": self.by_name}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            deal_id=opt_int(data.get("deal_id")),
            by_name=opt_str(data.get("by_name")),
            count=opt_int(data.get("count")),
            from_name=opt_str(data.get("from_name")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class WebLead(NotePayload):
    """A lead from the website's form ``form_name`` made ``deal_id`` (``created``) or joined it."""

    KIND: ClassVar[str] = NoteKind.WEB_LEAD
    deal_id: int
    form_name: str
    created: bool

    def to_json(self) -> JSON:
        return {"deal_id": self.deal_id, "form_name": self.form_name, "created": self.created}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            deal_id=int(data["deal_id"]), form_name=str(data["form_name"]), created=bool(data["created"])
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DealMovedOnBoard(NotePayload):
    """The recipient moved ``deal_id`` to a stage on the board (its name then, if it is gone since)."""

    KIND: ClassVar[str] = NoteKind.DEAL_MOVED_ON_BOARD
    deal_id: int
    stage_id: int
    stage_name: str

    def to_json(self) -> JSON:
        return {"deal_id": self.deal_id, "stage_id": self.stage_id, "stage_name": self.stage_name}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            deal_id=int(data["deal_id"]), stage_id=int(data["stage_id"]), stage_name=str(data["stage_name"])
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StaleReminder(NotePayload):
    """The owner's deals that sat too long in their stage."""

    KIND: ClassVar[str] = NoteKind.STALE_REMINDER
    deal_ids: tuple[int, ...]

    def to_json(self) -> JSON:
        return {"deal_ids": list(self.deal_ids)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(deal_ids=int_list(data.get("deal_ids")))


@dataclass(frozen=True, slots=True, kw_only=True)
class Escalated:
    """A deal still stale after its reminder, stale since ``stale_since`` (its follow-up due time)."""

    deal_id: int
    stale_since: datetime

    def to_json(self) -> JSON:
        return {"deal_id": self.deal_id, "stale_since": self.stale_since.isoformat()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(deal_id=int(data["deal_id"]), stale_since=datetime.fromisoformat(str(data["stale_since"])))


@dataclass(frozen=True, slots=True, kw_only=True)
class Escalation(NotePayload):
    """The deals a boss hears of: still stale after their owners' reminders."""

    KIND: ClassVar[str] = NoteKind.ESCALATION
    items: tuple[Escalated, ...]

    def to_json(self) -> JSON:
        return {"items": [item.to_json() for item in self.items]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(items=tuple(Escalated.from_json(item) for item in json_list(data.get("items"))))


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskDue(NotePayload):
    """A task due now; ``repeat``: a call-back still not done, told again."""

    KIND: ClassVar[str] = NoteKind.TASK_DUE
    task_id: int
    repeat: bool = False

    def to_json(self) -> JSON:
        return {"task_id": self.task_id, "repeat": True} if self.repeat else {"task_id": self.task_id}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(task_id=int(data["task_id"]), repeat=bool(data.get("repeat")))


@dataclass(frozen=True, slots=True, kw_only=True)
class MorningPlan(NotePayload):
    """A seller's plan for ``day`` (JSON ``date``), with what its tick took in: stale deals, due task
    notices and call-backs told again."""

    KIND: ClassVar[str] = NoteKind.MORNING_PLAN
    day: date
    deal_ids: tuple[int, ...] = ()
    task_ids: tuple[int, ...] = ()
    repeat_ids: tuple[int, ...] = ()

    def taken_in(self) -> dict[str, tuple[int, ...]]:
        """What the plan took in, by its JSON name, leaving out what is empty."""
        taken = {"deal_ids": self.deal_ids, "task_ids": self.task_ids, "repeat_ids": self.repeat_ids}
        return {name: ids for name, ids in taken.items() if ids}

    def to_json(self) -> JSON:
        return {"date": self.day.isoformat()} | {name: list(ids) for name, ids in self.taken_in().items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            day=date.fromisoformat(str(data["date"])),
            deal_ids=int_list(data.get("deal_ids")),
            task_ids=int_list(data.get("task_ids")),
            repeat_ids=int_list(data.get("repeat_ids")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Digest(NotePayload):
    """A boss's digest of what happened from ``since`` to ``until`` (``weekly``: Monday's)."""

    KIND: ClassVar[str] = NoteKind.DIGEST
    since: datetime
    until: datetime
    weekly: bool = False

    def to_json(self) -> JSON:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(), "weekly": self.weekly}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            since=datetime.fromisoformat(str(data["since"])),
            until=datetime.fromisoformat(str(data["until"])),
            weekly=bool(data.get("weekly")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Nudge(NotePayload):
    """A boss (``by_name``) asks the owner to follow up on ``deal_id``."""

    KIND: ClassVar[str] = NoteKind.NUDGE
    deal_id: int
    by_name: str

    def to_json(self) -> JSON:
        return {"deal_id": self.deal_id, "by_name": self.by_name}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(deal_id=int(data["deal_id"]), by_name=str(data.get("by_name") or ""))


# -- team ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteUsed(NotePayload):
    """Someone joined by the recipient's invitation: who, as what, with which extensions (``taken``:
    those of the invitation given to someone else meanwhile)."""

    KIND: ClassVar[str] = NoteKind.INVITE_USED
    user_id: int
    name: str
    role: Role
    extensions: tuple[str, ...] = ()
    taken: tuple[str, ...] = ()

    def to_json(self) -> JSON:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "role": self.role.value,
            "extensions": list(self.extensions),
            "taken": list(self.taken),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            user_id=int(data["user_id"]),
            name=str(data.get("name") or ""),
            role=Role(data.get("role") or Role.SELLER.value),
            extensions=str_list(data.get("extensions")),
            taken=str_list(data.get("taken")),
        )
