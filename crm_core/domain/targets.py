"""Sales targets: what a seller is to win in a calendar month, in money and optionally in deals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from crm_core.domain.errors import InvalidInput, Why
from crm_core.domain.values import parse_amount

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_TARGET_DEALS = 100_000


@dataclass(frozen=True, slots=True)
class Target:
    """A seller's (``user_id``) target for ``month`` ('YYYY-MM'): an amount, and deals won if set."""

    user_id: int
    month: str
    amount: Decimal
    deals: int | None = None


def valid_month(text: str) -> str:
    """A month as 'YYYY-MM' (e.g. 2026-12); anything else is refused."""
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise InvalidInput("month", text, Why.MONTH)
    return text.strip()


def target_amount(value: Decimal | str) -> Decimal:
    """A target's amount: a positive sum of money."""
    amount = parse_amount(str(value))
    if amount <= 0:
        raise InvalidInput("amount", str(value), Why.NOT_AN_AMOUNT)
    return amount


def target_deals(value: int | str | None) -> int | None:
    """A target's number of deals: a whole number from 1, or none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_TARGET_DEALS:
        raise InvalidInput("deals", text, Why.WHOLE_NUMBER, most=MAX_TARGET_DEALS)
    return int(text)


def month_of(moment: datetime, tz: str) -> str:
    """The month ('YYYY-MM') ``moment`` falls in, in the time zone ``tz``."""
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m")


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def month_bounds(month: str, tz: str) -> tuple[datetime, datetime]:
    """The month as a half-open range of moments [its first midnight, the next month's) in ``tz``."""
    first = date(int(month[:4]), int(month[5:]), 1)
    following = date.fromisoformat(next_month(month) + "-01")
    zone = ZoneInfo(tz)
    return datetime.combine(first, time(0), tzinfo=zone), datetime.combine(following, time(0), tzinfo=zone)


def days_left(month: str, *, now: datetime, tz: str) -> int:
    """Calendar days left in ``month`` counting today, in ``tz``: 0 once it is over, all of it ahead."""
    start, end = month_bounds(month, tz)
    today = now.astimezone(ZoneInfo(tz)).date()
    last = end.date() - timedelta(days=1)
    if today > last:
        return 0
    return (last - max(today, start.date())).days + 1
