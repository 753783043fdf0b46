"""Phone numbers are stored E.164, whatever way people or PBXs wrote them."""

from __future__ import annotations

import pytest

from crm_core.domain.errors import InvalidInput
from crm_core.domain.phones import digits_of, mask, to_e164, try_e164


@pytest.mark.parametrize("typed", ["8 495 123-45-67", "+7 (495) 123 45 67", "74951234567", "(495) 123-45-67"])
def test_a_moscow_number_written_in_any_usual_way_is_one_number(typed: str) -> None:
    assert to_e164(typed, region="RU") == "+74951234567"


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("+1 202 456 1111", "RU", "+12024561111"),
        ("(202) 456-1111", "US", "+12024561111"),
        ("0049 30 901820", "RU", "+4930901820"),  # an international "00" prefix
        ("+20 2 2345 6789", "RU", "+20223456789"),
        ("8 800 555 35 35", "RU", "+78005553535"),
    ],
)
def test_other_countries_numbers_are_read_with_their_country_code(typed: str, region: str, e164: str) -> None:
    assert to_e164(typed, region=region) == e164


@pytest.mark.parametrize("typed", ["", "   ", "12345", "abc", "+7 495", "1" * 41, "+999 123 456 789"])
def test_what_is_no_phone_number_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refusal:
        to_e164(typed, region="RU")
    assert refusal.value.field == "phone"


def test_an_anonymous_or_invalid_caller_has_no_number() -> None:
    assert try_e164(None, region="RU") is None
    assert try_e164("anonymous", region="RU") is None
    assert try_e164("8 (495) 123-45-67", region="RU") == "+74951234567"


def test_logs_show_only_the_last_four_digits_of_a_number() -> None:
    assert mask("+74951234567") == "*******4567"
    assert mask(None) == "-"
    assert digits_of("+7 (495) 123-45-67") == "74951234567"
