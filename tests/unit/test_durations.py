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
