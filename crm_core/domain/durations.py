"""Durations as funnel files write them: "2h", "3d", "1w", "90m", "1d12h"."""

from __future__ import annotations

import re
from datetime import timedelta

from crm_core.domain.errors import InvalidInput

_PART = re.compile(r"(\d+)\s*([wdhm])")
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}


def parse_duration(raw: object) -> timedelta | None:
    """``None``/"none"/"" mean no follow-up; otherwise a positive sum of w/d/h/m parts."""
    if raw is None:
        return None
    text = str(raw).strip().lower()
    if text in ("", "none", "null", "no", "off", "false"):
        return None
    compact = text.replace(" ", "")
    parts = _PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise InvalidInput("duration", raw, 'use forms like "2h", "3d", "1w" or "1d12h"')
    total = sum((int(n) * _UNITS[u] for n, u in parts), timedelta())
    if total <= timedelta(0):
        raise InvalidInput("duration", raw, "durations must be positive")
    return total


def format_duration(value: timedelta | None) -> str | None:
    if value is None:
        return None
    minutes = int(value.total_seconds() // 60)
    out = []
    for unit, size in (("w", 7 * 24 * 60), ("d", 24 * 60), ("h", 60), ("m", 1)):
        count, minutes = divmod(minutes, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out) or "0m"
