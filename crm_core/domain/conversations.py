"""The small state a conversation keeps: invitations, a chat's open dialog, claims of handled updates.

A dialog's flow keeps what it was told so far in a ``DialogState``: a frozen dataclass of its own,
stored as JSON in the dialog and read back by field (``Dialog.state``)."""

from __future__ import annotations

import enum
import types
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any, ClassVar, Self, TypeVar, Union, cast, get_args, get_origin, get_type_hints

from crm_core.domain.users import Role

JSON = dict[str, Any]


@dataclass(slots=True)
class Invite:
    id: int
    code: str
    role: Role
    created_by_id: int
    created_at: datetime
    expires_at: datetime
    used_by_id: int | None = None
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    extensions: tuple[str, ...] = ()

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class Holder:
    """A processed key's claim: ``working`` or ``done``, by which process (``None``: unknown), when."""

    state: str
    owner: str | None
    at: datetime


class DialogState:
    """What a flow keeps between its questions; subclasses are frozen dataclasses of plain fields (int,
    str, bool, datetime, enums, their optionals, tuples of them), one per flow (``FLOW``), with their
    JSON written and read field by field. A key missing from the JSON (a dialog stored before the field
    was, or a field not given yet) takes the field's default."""

    __slots__ = ()
    FLOW: ClassVar[str]

    def to_json(self) -> JSON:
        """The fields by name; one not given yet (``None``, as by default) is left out."""
        return {
            f.name: _json_value(value)
            for f in fields(cast(Any, self))
            if (value := getattr(self, f.name)) is not None or f.default is not None
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        hints = _hints(cast(type, cls))
        read = {f.name: _read(hints[f.name], data[f.name]) for f in fields(cast(Any, cls)) if f.name in data}
        return cast(Self, cast(Any, cls)(**read))


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _json_value(value: object) -> object:
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _read(hint: Any, value: Any) -> Any:
    """``value`` from JSON as a field typed ``hint``."""
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        if value is None:
            return None
        (hint,) = [arg for arg in get_args(hint) if arg is not type(None)]
        return _read(hint, value)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ValueError(f"a list expected, not {value!r}")
        return tuple(_read(get_args(hint)[0], v) for v in value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if hint is datetime:
        return datetime.fromisoformat(str(value))
    if hint is bool:
        return bool(value)
    if hint is int:
        return int(value)
    if hint is str:
        return str(value)
    raise TypeError(f"a dialog keeps no {hint!r}")


S = TypeVar("S", bound=DialogState)


@dataclass(slots=True)
class Dialog:
    """Where a person is in a flow: its ``step``, and what it was told so far (``data``, as stored)."""

    subject_id: int
    flow: str
    step: str
    data: JSON
    updated_at: datetime
    draft: int = 0  # which draft this is: every write of a dialog is a new one (``DialogService.put``)

    @classmethod
    def of(cls, subject_id: int, state: DialogState, *, step: str, at: datetime, draft: int) -> Dialog:
        return cls(subject_id, state.FLOW, step, state.to_json(), at, draft)

    def state(self, kind: type[S]) -> S:
        """What the flow was told so far, as ``kind`` (a state of this dialog's flow)."""
        flow = getattr(kind, "FLOW", None)
        if flow is not None and flow != self.flow:
            raise ValueError(f"a {self.flow} dialog keeps no {kind.__name__}")
        return kind.from_json(self.data)


@dataclass(frozen=True, slots=True)
class WhoIsCalling(DialogState):
    """The core's own flow: the seller's next message names the new caller of ``deal_id``."""

    FLOW: ClassVar[str] = "who_calls"
    deal_id: int
