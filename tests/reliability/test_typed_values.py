"""What users (and admins) type — phones, times, periods, time zones, durations, names — is read as a
correct value or refused with ``InvalidInput``; nothing else ever comes out. Amounts have their own
property tests in tests/unit/test_amounts.py; AMI packets and webhook payloads in tests/telephony."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.when import parse_when
from crm_core.domain.durations import parse_duration
from crm_core.domain.errors import InvalidInput
from crm_core.domain.phones import to_e164
from crm_core.domain.schedule import parse_days, parse_hours
from crm_core.domain.users import valid_name, valid_timezone
from crm_core.domain.values import valid_currency, valid_note, valid_title
from crm_core.reports.periods import parse_period
from tests.reliability.nothing_lost import TALLY

EXAMPLES = settings(max_examples=300, deadline=None)
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ZONES = st.sampled_from(
    ["UTC", "Europe/Moscow", "Asia/Dubai", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago"]
)
WORDS = [
    "in", "через", "بعد", "+", "tomorrow", "завтра", "غدًا", "next", "monday", "пт", "الجمعة",
    "h", "ч", "ساعة", "d", "days", "w", "недель", "min", "at", "today", "day after tomorrow",
]  # fmt: skip
typed_times = st.one_of(
    st.text(max_size=30),
    st.lists(
        st.one_of(
            st.sampled_from(WORDS),
            st.integers(0, 99999).map(str),
            st.sampled_from([":", ".", "/", "-", "T", "٣", "٢٥.١٢"]),
            st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(str),
            st.dates().map(lambda d: d.strftime("%d.%m.%Y")),
        ),
        max_size=4,
    ).map(" ".join),
)
typed_phones = st.one_of(
    st.text(max_size=45),
    st.text(alphabet="+0123456789 ()-.٠١٢٣٤٥٦٧٨٩", max_size=25),
    st.from_regex(r"\+?[78] ?\(?[0-9]{3}\)? ?[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{2}", fullmatch=True),
)


def read_or_refused(read: Callable[[], object]) -> object | None:
    TALLY.cases += 1
    try:
        return read()
    except InvalidInput as error:
        refusal = str(error)
    assert refusal, "a refusal says what was wrong"
    return None


@EXAMPLES
@given(typed_phones, st.sampled_from(["RU", "US", "AE", "DE"]))
@example("+4920100000000000", "DE")  # 16 digits: the library takes it for German, E.164 does not
def test_a_typed_phone_is_one_e164_number_or_refused(typed: str, region: str) -> None:
    number = read_or_refused(lambda: to_e164(typed, region=region))
    if number is not None:
        assert isinstance(number, str) and E164.match(number), number
        assert to_e164(number, region=region) == number  # reading it again changes nothing


@EXAMPLES
@given(typed_times, ZONES, st.integers(0, 400 * 24))
def test_a_typed_time_is_an_aware_moment_ahead_or_refused(typed: str, tz: str, hours: int) -> None:
    now = NOW + timedelta(hours=hours)
    moment = read_or_refused(lambda: parse_when(typed, now=now, tz=tz))
    if moment is not None:
        assert isinstance(moment, datetime) and moment.tzinfo is not None
        assert now < moment <= now + timedelta(days=3 * 366), (typed, moment)


@EXAMPLES
@given(st.one_of(st.text(max_size=12), st.from_regex(r"[0-9٠-٩]{1,6} ?[hdwmy]", fullmatch=True)), ZONES)
def test_a_typed_report_period_is_a_range_ending_now_or_refused(typed: str, tz: str) -> None:
    period = read_or_refused(lambda: parse_period(typed, now=NOW, tz=tz))
    if period is not None:
        assert period.start < period.end == NOW  # type: ignore[attr-defined]


@EXAMPLES
@given(
    st.one_of(
        st.text(max_size=300),
        st.sampled_from(["Europe", "America", "Etc", "Europe/", "a" * 300, "Europe/Moscow", "UTC"]),
    )
)
def test_a_typed_time_zone_is_a_known_zone_or_refused(typed: str) -> None:
    zone = read_or_refused(lambda: valid_timezone(typed))
    assert zone in (None, typed)


@EXAMPLES
@given(st.one_of(st.text(max_size=20), st.from_regex(r"[0-9]{1,6}[smhdw]", fullmatch=True), st.integers()))
def test_a_typed_duration_is_positive_or_none_or_refused(typed: object) -> None:
    duration = read_or_refused(lambda: parse_duration(typed))
    assert duration is None or (isinstance(duration, timedelta) and duration > timedelta(0))


@EXAMPLES
@given(st.text(max_size=30))
def test_working_days_and_hours_are_read_or_refused(typed: str) -> None:
    days = read_or_refused(lambda: parse_days(typed))
    assert days is None or (isinstance(days, frozenset) and days and days <= set(range(7)))
    hours = read_or_refused(lambda: parse_hours(typed))
    assert hours is None or hours[0] < hours[1]  # type: ignore[index]


VALIDATORS: list[Callable[[str], str]] = [valid_title, valid_note, valid_name, valid_currency]


@EXAMPLES
@given(
    st.sampled_from(VALIDATORS), st.text(max_size=300) | st.text(alphabet=" \t\n\u200f\u202eA", max_size=10)
)
def test_titles_notes_names_and_currencies_are_kept_trimmed_or_refused(
    validate: Callable[[str], str], typed: str
) -> None:
    value = read_or_refused(lambda: validate(typed))
    if value is not None:
        assert isinstance(value, str) and value and value == value.strip()


@pytest.mark.parametrize("typed", ["Europe", "America/", "Asia", "x" * 300])
def test_a_time_zone_that_names_a_folder_or_is_too_long_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput, match="timezone"):
        valid_timezone(typed)
