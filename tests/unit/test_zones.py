"""Time zones as people type them: IANA names in any case, cities in English, Russian and Arabic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm_core.domain.errors import InvalidInput
from crm_core.domain.zones import COMMON_ZONES, resolve_timezone, utc_offset


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/Moscow", "Europe/Moscow"),
        ("europe/moscow", "Europe/Moscow"),
        ("america/new york", "America/New_York"),
        ("New York", "America/New_York"),
        ("  москва ", "Europe/Moscow"),
        ("Нью-Йорк", "America/New_York"),
        ("Екатеринбург", "Asia/Yekaterinburg"),
        ("دبي", "Asia/Dubai"),
        ("الرياض", "Asia/Riyadh"),
        ("utc", "UTC"),
    ],
)
def test_a_typed_zone_or_city_is_read_as_its_iana_zone(typed: str, zone: str) -> None:
    assert resolve_timezone(typed) == zone


@pytest.mark.parametrize(
    "typed", ["", "Europe", "Mars/Olympus", "Saint Petersburg", "x" * 500, "../etc/passwd"]
)
def test_what_names_no_zone_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        resolve_timezone(typed)
    assert refused.value.field == "timezone"


def test_every_offered_zone_is_one_the_system_knows() -> None:
    for zones in COMMON_ZONES.values():
        assert [resolve_timezone(z) for z in zones] == list(zones)


def test_offsets_read_as_people_write_them() -> None:
    winter = datetime(2026, 1, 15, tzinfo=UTC)
    assert [utc_offset(z, winter) for z in ("Europe/Moscow", "Asia/Kolkata", "America/New_York", "UTC")] == [
        "+3",
        "+5:30",
        "-5",
        "+0",
    ]
