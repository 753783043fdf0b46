"""Durations as funnel files write them: "2h", "3d", "1w", "90m", "1d12h"."""

from __future__ import annotations

import re
from datetime import timedelta

from crm_core.domain.errors import InvalidInput
from crm_core.domain.horizon import MAX_AHEAD

# The whole text is matched from its start, each number ending at its unit: the time taken grows with
# the length (a search for parts anywhere in it took minutes on 65,536 digits), and the length is bounded.
_TEXT = re.compile(r"(?:\d+[wdhm])+")
_PART = re.compile(r"(\d+)([wdhm])")
_MINUTES = {"w": 7 * 24 * 60, "d": 24 * 60, "h": 60, "m": 1}
MAX_TEXT = 40
LONGEST = MAX_AHEAD  # a follow-up further away than any plan may be is a typo
FORMS = 'use forms like "2h", "3d", "1w" or "1d12h"'


def parse_duration(raw: object) -> timedelta | None:
    """``None``/"none"/"" mean no follow-up; else a positive sum of w/d/h/m parts, three years at most."""
    if raw is None or raw is False:  # YAML reads `no`, `off` and `false` as False
        return None
    if not isinstance(raw, str):  # a YAML number: no unit (and str() of a huge one raises)
        raise InvalidInput("duration", type(raw).__name__, detail=FORMS)
    text = raw.strip().lower()
    if text in ("", "none", "null", "no", "off", "false"):
        return None
    if len(text) > MAX_TEXT:
        raise InvalidInput("duration", raw, detail=f"at most {MAX_TEXT} characters; {FORMS}")
    compact = text.replace(" ", "")
    if not _TEXT.fullmatch(compact):
        raise InvalidInput("duration", raw, detail=FORMS)
    minutes = sum(int(number) * _MINUTES[unit] for number, unit in _PART.findall(compact))
    if minutes <= 0:
        raise InvalidInput("duration", raw, detail="durations must be positive")
    if minutes > LONGEST.total_seconds() // 60:
        raise InvalidInput("duration", raw, detail="at most three years")
    return timedelta(minutes=minutes)


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
