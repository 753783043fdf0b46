"""How far ahead a plan may go: snoozes, reminders and task due times all stop at the same horizon."""

from __future__ import annotations

from datetime import datetime, timedelta

from crm_core.domain.errors import InvalidInput, Why

# About three years: further is a typo ("2062" for "2026") or a forged request, never a plan.
MAX_AHEAD = timedelta(days=3 * 366)


def within_horizon(field: str, moment: datetime, *, now: datetime) -> datetime:
    """``moment`` if it has a time zone and is at most ``MAX_AHEAD`` after ``now``; else ``InvalidInput``."""
    if moment.tzinfo is None:
        raise InvalidInput(field, moment.isoformat(), Why.NO_TIME_ZONE)
    if moment - now > MAX_AHEAD:
        raise InvalidInput(field, moment.isoformat(), Why.TOO_FAR)
    return moment
