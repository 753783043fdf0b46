"""Working hours: when sellers may be prompted (stage reminders wait for them)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from crm_core.domain.errors import InvalidInput

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class WorkingHours:
    days: frozenset[int] = field(default_factory=lambda: frozenset(range(5)))  # Monday = 0
    start: time = time(9, 0)
    end: time = time(19, 0)

    def contains(self, moment: datetime, tz: str) -> bool:
        """Whether ``moment`` falls inside working hours in the time zone ``tz``."""
        local = moment.astimezone(ZoneInfo(tz))
        return local.weekday() in self.days and self.start <= local.time() < self.end

    @classmethod
    def parse(cls, days: str, hours: str) -> WorkingHours:
        """From settings: days "mon-fri" or "mon,tue,sat"; hours "09:00-19:00"."""
        return cls(parse_days(days), *parse_hours(hours))


def parse_days(text: str) -> frozenset[int]:
    result: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise InvalidInput("working days", text, detail='use e.g. "mon-fri" or "mon,tue,wed,sat"')
        a, b = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        result.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    if not result:
        raise InvalidInput("working days", text, detail="name at least one day")
    return frozenset(result)


def parse_clock(text: str) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise InvalidInput("time of day", text, detail='use HH:MM, e.g. "09:00"')
    return time(int(match[1]), int(match[2]))


def parse_hours(text: str) -> tuple[time, time]:
    start_text, sep, end_text = text.partition("-")
    if not sep:
        raise InvalidInput("working hours", text, detail='use e.g. "09:00-19:00"')
    start, end = parse_clock(start_text), parse_clock(end_text)
    if end <= start:
        raise InvalidInput("working hours", text, detail="the end must be after the start")
    return start, end


def next_working_start(moment: datetime, tz: str, hours: WorkingHours) -> datetime:
    """``moment`` itself when inside working hours, else when they next begin (in ``tz``)."""
    if hours.contains(moment, tz):
        return moment
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone)
    for ahead in range(8):
        day = local.date() + timedelta(days=ahead)
        start = datetime.combine(day, hours.start, tzinfo=zone)
        if day.weekday() in hours.days and start > local:
            return start
    return moment


def outside_hours(moment: datetime, tz: str, hours: WorkingHours) -> datetime | None:
    """When ``moment`` falls outside working hours, the start of the next working morning to offer
    instead (a reminder "in 2h" at 23:26 is better at 09:00); ``None`` when it is within them."""
    start = next_working_start(moment, tz, hours)
    return None if start == moment else start
