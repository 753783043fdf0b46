"""Amounts as people type them: one exact Decimal, or a clear refusal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.domain.errors import InvalidInput
from crm_core.domain.values import MAX_AMOUNT, format_amount, parse_amount

CENTS = st.integers(min_value=0, max_value=int(MAX_AMOUNT * 100)).map(lambda c: Decimal(c) / 100)


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1 500,50", "1500.50"),
        ("1,500.50", "1500.50"),
        ("1500.5", "1500.50"),
        ("1.500,50", "1500.50"),
        ("1\u00a0500,50", "1500.50"),  # a non-breaking space, as spreadsheets copy it
        ("1'000.25", "1000.25"),
        ("1 000 000", "1000000.00"),
        ("1,500", "1500.00"),  # three digits after one separator: thousands
        ("10,5", "10.50"),
        (".5", "0.50"),
        ("0", "0.00"),
        ("15k", "15000.00"),
        ("1.2 млн", "1200000.00"),
        ("₽ 2 000", "2000.00"),
        ("1 500 руб.", "1500.00"),
        ("$1,000.00", "1000.00"),
        ("١٥٠٠", "1500.00"),  # Arabic-Indic digits
        ("٣٬٥٠٠٫٧٥", "3500.75"),  # with the Arabic thousands and decimal marks
        ("999999999999.99", "999999999999.99"),
    ],
)
def test_an_amount_typed_in_a_common_way_is_read_exactly(typed: str, amount: str) -> None:
    value = parse_amount(typed)
    assert value == Decimal(amount)
    assert format_amount(value) == amount


@pytest.mark.parametrize(
    "typed",
    [
        "abc",
        "-5",
        "−5",  # a Unicode minus
        "",
        "   ",
        ",",
        "1e5",
        "0.125",  # a third decimal would be silently lost
        "1,2,3",
        "12.345.67",
        "1,5.5",
        "k",
        "1000000000000",
        "1" * 30,  # longer than a Decimal keeps exactly
        "1" * 29 + ".5",
    ],
)
def test_an_amount_that_is_not_a_positive_number_of_cents_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refusal:
        parse_amount(typed)
    assert refusal.value.field == "amount"


@settings(max_examples=200)
@given(st.text(max_size=40))
def test_any_text_is_read_as_an_amount_of_whole_cents_or_refused_clearly(typed: str) -> None:
    try:
        value = parse_amount(typed)
    except InvalidInput:
        return
    assert isinstance(value, Decimal)
    assert Decimal(0) <= value <= MAX_AMOUNT
    assert value == value.quantize(Decimal("0.01"))


@settings(max_examples=200)
@given(st.text(alphabet="0123456789 ,.-kк₽$'", max_size=24))
def test_any_arrangement_of_digits_and_separators_is_read_or_refused_clearly(typed: str) -> None:
    try:
        value = parse_amount(typed)
    except InvalidInput:
        return
    assert value >= 0
    assert value == value.quantize(Decimal("0.01"))


@settings(max_examples=200)
@given(CENTS)
def test_a_formatted_amount_reads_back_as_the_same_amount(amount: Decimal) -> None:
    text = format_amount(amount)
    assert text is not None
    assert parse_amount(text) == amount
    assert format_amount(parse_amount(text)) == text


@settings(max_examples=200)
@given(CENTS)
def test_an_amount_written_with_thousands_separators_reads_back_the_same(amount: Decimal) -> None:
    english = f"{amount:,.2f}"  # 1,234,567.89
    russian = english.replace(",", " ").replace(".", ",")  # 1 234 567,89
    assert parse_amount(english) == amount
    assert parse_amount(russian) == amount


def test_no_amount_formats_as_nothing_and_whole_amounts_get_two_places() -> None:
    assert format_amount(None) is None
    assert format_amount(Decimal("5")) == "5.00"
    assert format_amount(Decimal("0.1")) == "0.10"
