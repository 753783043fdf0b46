"""Times as people type them — "in 2h", "tomorrow 10:00", "25.12 15:00", ISO — read in their time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from crm_core.domain.errors import InvalidInput, Why
from crm_core.domain.horizon import MAX_AHEAD

MORNING = time(9, 0)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNITS = {
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "мин": 60,
    "минут": 60,
    "минуты": 60,
    "минуту": 60,
    "دقيقة": 60,
    "دقائق": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "ч": 3600,
    "час": 3600,
    "часа": 3600,
    "часов": 3600,
    "ساعة": 3600,
    "ساعات": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "д": 86400,
    "день": 86400,
    "дня": 86400,
    "дней": 86400,
    "يوم": 86400,
    "أيام": 86400,
    "ايام": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
    "нед": 604800,
    "неделю": 604800,
    "недели": 604800,
    "недель": 604800,
    "أسبوع": 604800,
    "اسبوع": 604800,
    "أسابيع": 604800,
}
_IN = re.compile(r"^(?:in|через|بعد|\+)?\s*(\d{1,4})\s*([^\d\s]+)$")
_TIME = re.compile(r"(?:^|\s)(\d{1,2})[:.](\d{2})$")
_DATE = re.compile(r"^(\d{1,2})[./](\d{1,2})(?:[./](\d{2,4}))?$")
_WORDS_DAY = {
    "today": 0,
    "сегодня": 0,
    "اليوم": 0,
    "tomorrow": 1,
    "завтра": 1,
    "غدا": 1,
    "غداً": 1,
    "غدًا": 1,
    "بكرة": 1,
    "day after tomorrow": 2,
    "послезавтра": 2,
    "بعد غد": 2,
}
_WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "понедельник": 0,
    "пн": 0,
    "الاثنين": 0,
    "الإثنين": 0,
    "tuesday": 1,
    "tue": 1,
    "вторник": 1,
    "вт": 1,
    "الثلاثاء": 1,
    "wednesday": 2,
    "wed": 2,
    "среда": 2,
    "среду": 2,
    "ср": 2,
    "الأربعاء": 2,
    "الاربعاء": 2,
    "thursday": 3,
    "thu": 3,
    "четверг": 3,
    "чт": 3,
    "الخميس": 3,
    "friday": 4,
    "fri": 4,
    "пятница": 4,
    "пятницу": 4,
    "пт": 4,
    "الجمعة": 4,
    "saturday": 5,
    "sat": 5,
    "суббота": 5,
    "субботу": 5,
    "сб": 5,
    "السبت": 5,
    "sunday": 6,
    "sun": 6,
    "воскресенье": 6,
    "вс": 6,
    "الأحد": 6,
    "الاحد": 6,
}
_NOISE = re.compile(r"^(?:next|в|on|at|следующий|следующую|в следующий|в следующую|يوم)\s+")


class PassedDate(InvalidInput):
    """A day typed without a year ("01.12 10:00") that has passed this year: never silently taken for
    next year's (a typo would snooze a deal for a year); ``next_year`` is that day a year on, to offer."""

    def __init__(self, text: str, next_year: datetime | None) -> None:
        super().__init__("time", text, Why.DATE_PASSED)
        self.next_year = next_year


def _at(day: date, moment: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=tz)


def parse_when(text: str, *, now: datetime, tz: str) -> datetime:
    """The moment ``text`` means, in ``tz``; refuses nonsense and times in the past."""
    zone = ZoneInfo(tz)
    raw = " ".join(text.strip().lower().split())
    if not raw or len(raw) > 60:
        raise InvalidInput("time", text, Why.TIME_FORMS)
    result = _parse(raw, now.astimezone(zone), zone)
    if result is None:
        raise InvalidInput("time", text, Why.TIME_FORMS)
    if isinstance(result, _YearlessDay):
        if result.moment <= now:
            raise PassedDate(text, _a_year_on(result.moment))
        result = result.moment
    if result <= now:
        raise InvalidInput("time", text, Why.IN_THE_PAST)
    if result - now > MAX_AHEAD:  # the CRM refuses it too: say so in the user's words now
        raise InvalidInput("time", text, Why.TOO_FAR)
    return result


@dataclass(frozen=True, slots=True)
class _YearlessDay:
    """A day typed with no year: this year's, whether or not it has passed."""

    moment: datetime


def _a_year_on(moment: datetime) -> datetime | None:
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:  # 29 February
        return None


def _parse(raw: str, local: datetime, zone: ZoneInfo) -> datetime | _YearlessDay | None:
    try:
        iso = datetime.fromisoformat(raw.upper().replace(" ", "T", 1) if re.match(r"^\d{4}-", raw) else "")
        return iso if iso.tzinfo else iso.replace(tzinfo=zone)
    except ValueError:
        pass
    relative = _IN.match(raw.replace("+", "+ ", 1) if raw.startswith("+") else raw)
    if relative and relative.group(2) in _UNITS:
        return local + timedelta(seconds=int(relative.group(1)) * _UNITS[relative.group(2)])
    clock = MORNING
    found = _TIME.search(raw)
    looks_like_a_day = found and "." in found.group(0) and _DATE.match(raw)
    if looks_like_a_day and found and 1 <= int(found.group(2)) <= 12 and 1 <= int(found.group(1)) <= 31:
        found = None  # "25.12" is a day; "15.00" or "9:30" a time
    if found:
        hour, minute = int(found.group(1)), int(found.group(2))
        if hour > 23 or minute > 59:
            return None
        clock = time(hour, minute)
        raw = raw[: found.start()].strip()
        if not raw:
            today = _at(local.date(), clock, zone)
            return today if today > local else today + timedelta(days=1)
    raw = _NOISE.sub("", raw).strip()
    if raw in _WORDS_DAY:
        return _at(local.date() + timedelta(days=_WORDS_DAY[raw]), clock, zone)
    if raw in _WEEKDAYS:
        ahead = (_WEEKDAYS[raw] - local.weekday()) % 7 or 7
        return _at(local.date() + timedelta(days=ahead), clock, zone)
    day = _DATE.match(raw)
    if day:
        return _calendar_day(day, local, clock, zone)
    return None


def _calendar_day(
    match: re.Match[str], local: datetime, clock: time, zone: ZoneInfo
) -> datetime | _YearlessDay | None:
    d, m, y = int(match.group(1)), int(match.group(2)), match.group(3)
    year = (int(y) + 2000 if len(y) == 2 else int(y)) if y else local.year
    try:
        result = _at(date(year, m, d), clock, zone)
    except ValueError:
        return None
    return result if y else _YearlessDay(result)


def next_monday_morning(now: datetime, tz: str) -> datetime:
    local = now.astimezone(ZoneInfo(tz))
    ahead = (0 - local.weekday()) % 7 or 7
    return _at(local.date() + timedelta(days=ahead), MORNING, ZoneInfo(tz))


def morning_in(days: int, now: datetime, tz: str) -> datetime:
    local = now.astimezone(ZoneInfo(tz))
    return _at(local.date() + timedelta(days=days), MORNING, ZoneInfo(tz))


def from_epoch_minutes(minutes: int) -> datetime:
    """The moment ``minutes`` after 1970 (UTC), as a button carries it; past what a date holds, refused."""
    try:
        return EPOCH + timedelta(minutes=minutes)
    except OverflowError:
        raise InvalidInput("time", minutes, Why.TOO_FAR) from None
