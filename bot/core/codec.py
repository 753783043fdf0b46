"""Button payloads: one compact, versioned codec for every inline button's callback_data.

A payload is ``<version><action>`` then its arguments, ``:``-separated: ``"1nx:2n:5"`` is "move deal
75 (base 36 "2n") to the next stage, seen at version 5". Whole numbers travel in base 36; short tokens
(``[A-Za-z0-9._-]``) as they are. Encoding checks Telegram's 64-byte limit; decoding turns any byte
string into a known action with well-typed arguments (whole numbers below 2**63, as the database
stores them), or ``BadPayload``. A payload carries ids, never rights: every action is checked again by
the CRM core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "1"
MAX_BYTES = 64
_TOKEN = re.compile(r"^[A-Za-z0-9._-]{0,40}$")
_B36 = re.compile(r"^[0-9a-z]{1,13}$")  # 13 base-36 digits hold 2**63 - 1, the biggest id stored
# The database's ids are signed 64-bit integers: a number past them is no id of ours (it was an
# overflow in the database, and "something went wrong"); decode refuses it, so encode makes none.
_NUMBERS = 2**63


class BadPayload(ValueError):
    """The button's data is not one of ours (garbage, forged, or from an older version)."""


# action code -> argument kinds: "i" a whole number >= 0, "s" a short token
SCHEMA: dict[str, str] = {}


def action(code: str, kinds: str = "") -> str:
    if code in SCHEMA or not re.fullmatch(r"[a-z]{1,4}", code) or not re.fullmatch(r"[is]*", kinds):
        raise ValueError(f"bad action definition {code!r}")
    SCHEMA[code] = kinds
    return code


@dataclass(frozen=True, slots=True)
class Payload:
    act: str
    args: tuple[int | str, ...] = ()

    def num(self, index: int) -> int:
        """The whole-number argument at ``index``."""
        value = self.args[index]
        assert isinstance(value, int)
        return value

    def token(self, index: int) -> str:
        """The token argument at ``index``."""
        value = self.args[index]
        assert isinstance(value, str)
        return value


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def encode(act: str, *args: int | str) -> str:
    """The callback_data for ``act`` with ``args``; refuses what Telegram would refuse."""
    kinds = SCHEMA.get(act)
    if kinds is None or len(kinds) != len(args):
        raise ValueError(f"{act!r} takes {kinds!r}, got {args!r}")
    parts = []
    for kind, value in zip(kinds, args, strict=True):
        if kind == "i":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < _NUMBERS:
                raise ValueError(f"{act}: {value!r} is not a whole number from 0 to 2**63 - 1")
            parts.append(_b36(value))
        else:
            if not isinstance(value, str) or not _TOKEN.match(value):
                raise ValueError(f"{act}: {value!r} is not a short token")
            parts.append(value)
    data = VERSION + act + "".join(":" + p for p in parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str | bytes | None) -> Payload:
    """The action in ``data``, or ``BadPayload`` for anything that is not a payload we made."""
    if isinstance(data, bytes):
        try:
            data = data.decode()
        except UnicodeDecodeError:
            raise BadPayload("not UTF-8") from None
    if not data or len(data.encode()) > MAX_BYTES or not data.startswith(VERSION):
        raise BadPayload("not a Kanbot payload of this version")
    head, *parts = data[len(VERSION) :].split(":")
    kinds = SCHEMA.get(head)
    if kinds is None or len(kinds) != len(parts):
        raise BadPayload("unknown action or wrong arguments")
    args: list[int | str] = []
    for kind, part in zip(kinds, parts, strict=True):
        if kind == "i":
            if not _B36.match(part) or int(part, 36) >= _NUMBERS:
                raise BadPayload("bad number")
            args.append(int(part, 36))
        else:
            if not _TOKEN.match(part):
                raise BadPayload("bad token")
            args.append(part)
    return Payload(head, tuple(args))
