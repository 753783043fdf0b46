"""Button payloads: one compact, versioned codec for every inline button's callback_data.

Each action is a small frozen dataclass with named, typed fields (see ``bot.core.actions``)::

    class Next(Action, code="nx"):
        deal_id: int
        version: int

A payload is ``<version><code>`` then the fields in order, ``:``-separated: ``"1nx:23:5"`` is
``Next(deal_id=75, version=5)`` (75 is "23" in base 36). Whole numbers travel in base 36; short tokens
(``[A-Za-z0-9._-]``) as they are. ``encode`` checks Telegram's 64-byte limit when a button is built;
``Codec.decode`` turns any byte string into one of the actions it was built with, its fields well typed
(whole numbers below 2**63, as the database stores them), or ``BadPayload``. A payload carries ids,
never rights: every action is checked again by the CRM core.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, dataclass_transform

VERSION = "1"
MAX_BYTES = 64
_CODE = re.compile(r"^[a-z]{1,4}$")
_TOKEN = re.compile(r"^[A-Za-z0-9._-]{0,40}$")
_B36 = re.compile(r"^[0-9a-z]{1,13}$")  # 13 base-36 digits hold 2**63 - 1, the biggest id stored
# The database's ids are signed 64-bit integers: a number past them is no id of ours (it was an
# overflow in the database, and "something went wrong"); decode refuses it, so encode makes none.
_NUMBERS = 2**63
_KINDS = {"int": "i", "str": "s"}  # a field's type -> how it travels: "i" a whole number, "s" a token


class BadPayload(ValueError):
    """The button's data is not one of ours (garbage, forged, or from an older version)."""


@dataclass_transform(frozen_default=True)
class Action:
    """A button's action: subclasses name a ``code`` and declare their fields (``int`` or ``str``)."""

    code: ClassVar[str]
    kinds: ClassVar[str]  # one letter a field, in order: "i" a whole number >= 0, "s" a short token

    def __init_subclass__(cls, *, code: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(frozen=True)(cls)
        types = [str(f.type if isinstance(f.type, str) else f.type.__name__) for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        if not _CODE.match(code) or any(t not in _KINDS for t in types):
            raise TypeError(f"bad action definition {cls.__name__} {code!r}: fields must be int or str")
        cls.code, cls.kinds = code, "".join(_KINDS[t] for t in types)

    def values(self) -> tuple[int | str, ...]:
        """The fields' values, in the order they travel."""
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self))  # type: ignore[arg-type]


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def encode(action: Action) -> str:
    """The callback_data for ``action``; refuses what Telegram would refuse, and what decode would."""
    code, parts = action.code, []
    for kind, value in zip(action.kinds, action.values(), strict=True):
        if kind == "i":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < _NUMBERS:
                raise ValueError(f"{code}: {value!r} is not a whole number from 0 to 2**63 - 1")
            parts.append(_b36(value))
        else:
            if not isinstance(value, str) or not _TOKEN.match(value):
                raise ValueError(f"{code}: {value!r} is not a short token")
            parts.append(value)
    data = VERSION + code + "".join(":" + p for p in parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


class Codec:
    """Reads callback_data back into the actions it was built with."""

    def __init__(self, actions: Iterable[type[Action]]) -> None:
        table: dict[str, type[Action]] = {}
        for kind in actions:
            if table.setdefault(kind.code, kind) is not kind:
                raise ValueError(f"two actions with the code {kind.code!r}: {table[kind.code]} and {kind}")
        self.actions: Mapping[str, type[Action]] = table

    def decode(self, data: str | bytes | None) -> Action:
        """The action in ``data``, or ``BadPayload`` for anything that is not a payload we made."""
        if isinstance(data, bytes):
            try:
                data = data.decode()
            except UnicodeDecodeError:
                raise BadPayload("not UTF-8") from None
        if not data or len(data.encode()) > MAX_BYTES or not data.startswith(VERSION):
            raise BadPayload("not a Kanbot payload of this version")
        head, *parts = data[len(VERSION) :].split(":")
        kind = self.actions.get(head)
        if kind is None or len(kind.kinds) != len(parts):
            raise BadPayload("unknown action or wrong arguments")
        values: list[int | str] = []
        for letter, part in zip(kind.kinds, parts, strict=True):
            if letter == "i":
                if not _B36.match(part) or int(part, 36) >= _NUMBERS:
                    raise BadPayload("bad number")
                values.append(int(part, 36))
            else:
                if not _TOKEN.match(part):
                    raise BadPayload("bad token")
                values.append(part)
        return kind(*values)
