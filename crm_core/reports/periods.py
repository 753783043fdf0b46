"""Report periods as people name them: "30d", "7d", "today", "quarter"."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from crm_core.domain.errors import InvalidInput
from crm_core.reports.models import Period

_SPAN = re.compile(r"^(\d{1,4})\s*([hdwm])$")
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1), "m": timedelta(days=30)}
NAMED = {"week": "7d", "month": "30d", "year": "365d"}


def parse_period(text: str, *, now: datetime, tz: str = "UTC") -> Period:
    """``Nd``/``Nh``/``Nw``/``Nm`` back from now; ``today`` and ``quarter`` are calendar ones in ``tz``."""
    key = text.strip().lower()
    key = NAMED.get(key, key)
    local = now.astimezone(ZoneInfo(tz))
    if key == "today":
        start = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
        return Period(start, now)
    if key == "quarter":
        first_month = 3 * ((local.month - 1) // 3) + 1
        start = datetime.combine(local.date().replace(month=first_month, day=1), time(0), tzinfo=local.tzinfo)
        return Period(start, now)
    match = _SPAN.match(key)
    if not match or int(match.group(1)) == 0:
        raise InvalidInput("period", text, detail='use e.g. "30d", "7d", "24h", "today" or "quarter"')
    return Period(now - int(match.group(1)) * _UNIT[match.group(2)], now)
