"""Report periods as people name them, half-open and ending now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm_core.domain.errors import InvalidInput
from crm_core.reports.models import Period
from crm_core.reports.periods import parse_period

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning; 12:00 in Moscow


@pytest.mark.parametrize(
    ("name", "length"),
    [
        ("30d", timedelta(days=30)),
        ("7d", timedelta(days=7)),
        ("24h", timedelta(hours=24)),
        ("2w", timedelta(weeks=2)),
        ("1m", timedelta(days=30)),
        ("week", timedelta(days=7)),
        ("month", timedelta(days=30)),
        ("year", timedelta(days=365)),
        (" 30D ", timedelta(days=30)),
    ],
)
def test_a_span_reaches_back_from_now(name: str, length: timedelta) -> None:
    assert parse_period(name, now=NOW) == Period(NOW - length, NOW)


def test_today_starts_at_midnight_in_the_users_time_zone() -> None:
    period = parse_period("today", now=NOW, tz="Europe/Moscow")
    assert period.start == datetime(2026, 3, 2, 0, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    assert period.start == datetime(2026, 3, 1, 21, 0, tzinfo=UTC)
    assert period.end == NOW


def test_the_quarter_starts_on_the_first_day_of_its_first_month() -> None:
    period = parse_period("quarter", now=NOW, tz="UTC")
    assert period == Period(datetime(2026, 1, 1, tzinfo=UTC), NOW)


@pytest.mark.parametrize("name", ["0d", "abc", "30x", "99999d", "", "-5d"])
def test_a_period_nobody_could_mean_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput) as refusal:
        parse_period(name, now=NOW)
    assert refusal.value.field == "period"


def test_the_last_n_days_is_a_period_that_ends_at_the_given_moment() -> None:
    assert Period.last(7, until=NOW) == Period(NOW - timedelta(days=7), NOW)
