"""The payloads of the notes calls make: pop-ups, missed calls, refusals, floods, colleagues' calls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ClassVar, Self

from crm_core.domain.notifications.payload import (
    JSON,
    NoteKind,
    NotePayload,
    json_list,
    opt_int,
    opt_str,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallNotice(NotePayload):
    """A customer's call as it was when noted: the pop-up of an answered one, or a missed one.

    ``created``: the call made the deal; ``ended``: the call is over (``duration_s`` long);
    ``ask_who``: the pop-up asks who is calling (noted only when it was decided)."""

    call_id: int
    caller: str | None
    deal_id: int | None
    created: bool = False
    duration_s: int | None = None
    deal_title: str | None = None
    owner_name: str | None = None
    ended: bool = False
    ask_who: bool | None = None

    def to_json(self) -> JSON:
        data: JSON = {
            "call_id": self.call_id,
            "caller": self.caller,
            "deal_id": self.deal_id,
            "created": self.created,
            "duration_s": self.duration_s,
            "deal_title": self.deal_title,
            "owner_name": self.owner_name,
            "ended": self.ended,
        }
        if self.ask_who is not None:
            data["ask_who"] = self.ask_who
        return data

    @classmethod
    def _fields_of(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        ask_who = data.get("ask_who")
        return {
            "call_id": int(data["call_id"]),
            "caller": opt_str(data.get("caller")),
            "deal_id": opt_int(data.get("deal_id")),
            "created": bool(data.get("created")),
            "duration_s": opt_int(data.get("duration_s")),
            "deal_title": opt_str(data.get("deal_title")),
            "owner_name": opt_str(data.get("owner_name")),
            "ended": bool(data.get("ended")),
            "ask_who": None if ask_who is None else bool(ask_who),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(**cls._fields_of(data))


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAnswered(CallNotice):
    """The pop-up of a known customer's call, for whoever answered it."""

    KIND: ClassVar[str] = NoteKind.CALL_ANSWERED


@dataclass(frozen=True, slots=True, kw_only=True)
class CallUnknown(CallNotice):
    """The pop-up of a call from a number not in the CRM, for whoever answered it."""

    KIND: ClassVar[str] = NoteKind.CALL_UNKNOWN


@dataclass(frozen=True, slots=True, kw_only=True)
class MissedCallNotice(CallNotice):
    """A missed call and its call-back task; ``calls`` it stands for, ``again`` after an earlier notice."""

    task_id: int | None = None
    calls: int = 1
    again: bool = False

    def to_json(self) -> JSON:
        return CallNotice.to_json(self) | {"task_id": self.task_id, "calls": self.calls, "again": self.again}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            **cls._fields_of(data),
            task_id=opt_int(data.get("task_id")),
            calls=int(data.get("calls", 1)),
            again=bool(data.get("again")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CallMissed(MissedCallNotice):
    """A missed call, for the seller who calls back."""

    KIND: ClassVar[str] = NoteKind.CALL_MISSED

    def unowned(self) -> MissedUnowned:
        """The same call, told to a boss: nobody owns it."""
        return MissedUnowned(**{f.name: getattr(self, f.name) for f in fields(self)})


@dataclass(frozen=True, slots=True, kw_only=True)
class MissedUnowned(MissedCallNotice):
    """A missed call nobody owns, for each boss."""

    KIND: ClassVar[str] = NoteKind.MISSED_UNOWNED


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded(NotePayload):
    """An answered call is over: how long it took, and (its pop-up still asking) who was calling."""

    KIND: ClassVar[str] = NoteKind.CALL_ENDED
    call_id: int
    caller: str | None
    deal_id: int
    duration_s: int | None
    ask_who: bool = False
    ended: ClassVar[bool] = True

    def to_json(self) -> JSON:
        return {
            "call_id": self.call_id,
            "caller": self.caller,
            "deal_id": self.deal_id,
            "duration_s": self.duration_s,
            "ended": True,
            "ask_who": self.ask_who,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            call_id=int(data["call_id"]),
            caller=opt_str(data.get("caller")),
            deal_id=int(data["deal_id"]),
            duration_s=opt_int(data.get("duration_s")),
            ask_who=bool(data.get("ask_who")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CallNotPlaced(NotePayload):
    """A call asked for from a card that the phone system did not place, and why (a ``Refusal`` value)."""

    KIND: ClassVar[str] = NoteKind.CALL_NOT_PLACED
    request_id: int
    deal_id: int | None
    number: str | None
    reason: str
    detail: str | None = None

    def to_json(self) -> JSON:
        return {
            "request_id": self.request_id,
            "deal_id": self.deal_id,
            "number": self.number,
            "reason": self.reason,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            request_id=int(data["request_id"]),
            deal_id=opt_int(data.get("deal_id")),
            number=opt_str(data.get("number")),
            reason=str(data.get("reason") or ""),
            detail=opt_str(data.get("detail")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFlood(NotePayload):
    """A call flood's figures as of the notice: ``new_numbers`` called in ``minutes`` since ``since``,
    ``held`` calls held back past ``limit`` new numbers in ``window_minutes``."""

    KIND: ClassVar[str] = NoteKind.CALL_FLOOD
    new_numbers: int
    minutes: int
    held: int
    limit: int
    window_minutes: int
    since: datetime

    def to_json(self) -> JSON:
        return {
            "new_numbers": self.new_numbers,
            "minutes": self.minutes,
            "held": self.held,
            "limit": self.limit,
            "window_minutes": self.window_minutes,
            "since": self.since.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            new_numbers=int(data.get("new_numbers", 0)),
            minutes=int(data.get("minutes", 1)),
            held=int(data.get("held", 0)),
            limit=int(data.get("limit", 0)),
            window_minutes=int(data.get("window_minutes", 1)),
            since=datetime.fromisoformat(str(data["since"])),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ColleagueCallLine:
    """One line of a colleague-calls notice: ``by_name`` spoke with the customer of ``deal_id``,
    returning their missed call (``returned``) or answering it."""

    by_id: int
    by_name: str
    deal_id: int
    title: str
    returned: bool

    def to_json(self) -> JSON:
        return {
            "by_id": self.by_id,
            "by_name": self.by_name,
            "deal_id": self.deal_id,
            "title": self.title,
            "returned": self.returned,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            by_id=int(data["by_id"]),
            by_name=str(data.get("by_name") or ""),
            deal_id=int(data["deal_id"]),
            title=str(data.get("title") or ""),
            returned=bool(data.get("returned")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ColleagueCalls(NotePayload):
    """An owner's batched notice: which colleagues spoke with which of their customers."""

    KIND: ClassVar[str] = NoteKind.COLLEAGUE_CALLS
    spoke: tuple[ColleagueCallLine, ...] = ()

    def to_json(self) -> JSON:
        return {"spoke": [line.to_json() for line in self.spoke]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(spoke=tuple(ColleagueCallLine.from_json(line) for line in json_list(data.get("spoke"))))
