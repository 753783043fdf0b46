"""Pages of deals, for kanban columns that do not fit on a phone screen."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from crm_core.domain.errors import InvalidInput

T = TypeVar("T")
_BASE = 36
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


class DealOrder(enum.StrEnum):
    NEWEST = "newest"  # newest in the stage first
    WAITING = "waiting"  # longest waiting in the stage first


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None = None
    prev_cursor: str | None = None

    @staticmethod
    def encode_cursor(at: datetime, item_id: int) -> str:
        """A short opaque cursor (fits in a button's 64 bytes): base-36 microseconds and id."""
        micros = (at - _EPOCH) // _MICRO
        return f"{_b36(micros)}.{_b36(item_id)}"

    @staticmethod
    def decode_cursor(cursor: str) -> tuple[datetime, int]:
        try:
            micros, item_id = (int(part, _BASE) for part in cursor.split("."))
            return _EPOCH + micros * _MICRO, item_id
        except (ValueError, OverflowError, OSError):
            raise InvalidInput("cursor", cursor) from None


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if number == 0:
        return "0"
    if number < 0:  # a deal imported with a date before 1970; int(..., 36) reads the sign back
        return "-" + _b36(-number)
    out = []
    while number:
        number, rest = divmod(number, _BASE)
        out.append(digits[rest])
    return "".join(reversed(out))
