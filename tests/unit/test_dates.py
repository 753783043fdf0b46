"""Dates as typed and as shown, on a stopped clock: 6 December, noon, in Moscow.

A day typed without a year that has passed is never taken for next year's without asking (a typo
would snooze a deal for a year), and a date that is not this year's is always shown with its year.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.i18n import Tr
from bot.core.when import PassedDate, parse_when
from crm_core.domain.errors import InvalidInput, Why

MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=MOSCOW)


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MOSCOW)


@pytest.mark.parametrize(
    ("typed", "next_year"),
    [
        ("01.12 10:00", at(2027, 12, 1, 10)),
        ("1.12", at(2027, 12, 1)),
        ("05/12 18:30", at(2027, 12, 5, 18, 30)),
        ("06.12 09:00", at(2027, 12, 6, 9)),  # earlier today
    ],
)
def test_a_day_without_a_year_that_has_passed_is_refused_with_next_years_offered(
    typed: str, next_year: datetime
) -> None:
    with pytest.raises(PassedDate) as refusal:
        parse_when(typed, now=NOW, tz="Europe/Moscow")
    assert refusal.value.next_year == next_year
    assert refusal.value.reason is Why.DATE_PASSED


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("25.12", at(2026, 12, 25)),
        ("06.12 18:00", at(2026, 12, 6, 18)),
        ("01.12.2027 10:00", at(2027, 12, 1, 10)),  # a year typed is taken as typed
        ("01.12.27", at(2027, 12, 1)),
        ("10:00", at(2026, 12, 7, 10)),  # a time alone that has passed today is tomorrow's, as before
        ("tomorrow 10:00", at(2026, 12, 7, 10)),
    ],
)
def test_a_day_still_ahead_or_with_its_year_is_taken_as_typed(typed: str, meant: datetime) -> None:
    assert parse_when(typed, now=NOW, tz="Europe/Moscow") == meant


def test_a_passed_29_february_offers_no_next_year_that_has_none() -> None:
    with pytest.raises(PassedDate) as refusal:
        parse_when("29.02", now=datetime(2028, 3, 1, 12, tzinfo=UTC), tz="UTC")
    assert refusal.value.next_year is None


def test_a_date_typed_with_a_past_year_is_simply_in_the_past() -> None:
    with pytest.raises(InvalidInput) as refusal:
        parse_when("01.12.2026 10:00", now=NOW, tz="Europe/Moscow")
    assert not isinstance(refusal.value, PassedDate) and refusal.value.reason is Why.IN_THE_PAST


@pytest.mark.parametrize(
    ("locale", "next_year", "this_year", "last_year"),
    [
        ("en", "1 Dec 2027, 10:00", "1 Dec, 10:00", "1 Dec 2025, 10:00"),
        ("ru", "1 дек. 2027, 10:00", "1 дек., 10:00", "1 дек. 2025, 10:00"),
        ("ar", "1 ديسمبر 2027، 10:00", "1 ديسمبر، 10:00", "1 ديسمبر 2025، 10:00"),
    ],
)
def test_a_date_not_in_this_year_is_shown_with_its_year(
    locale: str, next_year: str, this_year: str, last_year: str
) -> None:
    tr = Tr(locale, "Europe/Moscow")
    assert tr.when(at(2027, 12, 1, 10), now=NOW) == next_year
    assert tr.when(at(2026, 12, 1, 10), now=NOW) == this_year
    assert tr.when(at(2025, 12, 1, 10), now=NOW) == last_year


def test_new_years_eve_shows_tomorrow_as_tomorrow_and_a_week_on_with_its_year() -> None:
    eve = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    tr = Tr("en")
    assert tr.when(datetime(2027, 1, 1, 9, tzinfo=UTC), now=eve) == "tomorrow 09:00"
    assert tr.when(datetime(2027, 1, 7, 9, tzinfo=UTC), now=eve) == "7 Jan 2027, 09:00"
