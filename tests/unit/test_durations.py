"""Follow-up durations as funnel files write them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.domain.durations import format_duration, parse_duration
from crm_core.domain.errors import InvalidInput


@pytest.mark.parametrize(
    ("written", "duration"),
    [
        ("2h", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("90m", timedelta(minutes=90)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1d 12h", timedelta(days=1, hours=12)),
        (" 2H ", timedelta(hours=2)),
    ],
)
def test_a_duration_is_read_from_its_parts(written: str, duration: timedelta) -> None:
    assert parse_duration(written) == duration


@pytest.mark.parametrize("written", [None, "", "none", "off", "null"])
def test_no_duration_means_no_follow_up(written: str | None) -> None:
    assert parse_duration(written) is None


@pytest.mark.parametrize("written", ["0h", "0d0m", "-2h", "2x", "h", "2", "2h-1m", "two hours"])
def test_a_duration_that_is_not_positive_or_not_in_the_format_is_refused(written: str) -> None:
    with pytest.raises(InvalidInput) as refusal:
        parse_duration(written)
    assert refusal.value.field == "duration"


def test_durations_are_written_in_their_largest_units() -> None:
    assert format_duration(timedelta(days=14)) == "2w"
    assert format_duration(timedelta(days=1, hours=12)) == "1d12h"
    assert format_duration(timedelta(minutes=90)) == "1h30m"
    assert format_duration(None) is None


@settings(max_examples=200)
@given(st.integers(min_value=1, max_value=60 * 24 * 365 * 3).map(lambda m: timedelta(minutes=m)))
def test_a_written_duration_reads_back_as_the_same_duration(duration: timedelta) -> None:
    assert parse_duration(format_duration(duration)) == duration


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        pytest.param("9" * 65_536, "at most 40 characters", id="65536-digits"),  # took 97 s, then overflowed
        pytest.param("9" * 65_536 + "d", "at most 40 characters", id="65536-digits-days"),
        pytest.param("1" * 38 + "w", "at most three years", id="past-a-date"),
        pytest.param("157w", "at most three years", id="157-weeks"),
        pytest.param(10**5000, "use forms like", id="huge-yaml-number"),  # str() raises past 4300 digits
        pytest.param(2, "use forms like", id="yaml-number"),
    ],
)
def test_a_long_or_huge_duration_is_refused_at_once_in_one_sentence(written: object, reason: str) -> None:
    with pytest.raises(InvalidInput) as refusal:
        parse_duration(written)
    assert refusal.value.field == "duration" and reason in str(refusal.value)


def test_three_years_is_the_longest_follow_up() -> None:
    assert parse_duration("156w6d") == timedelta(days=1098)
    assert parse_duration(False) is None  # YAML's `no`, `off` and `false`
