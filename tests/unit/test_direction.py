"""Amounts as each language writes them, and messages laid out in their reader's direction."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.core.direction import LRM, RLM, orient_label, orient_text
from bot.core.i18n import FSI, LRI, PDI, RLI, Tr

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("locale", "amount", "currency", "text"),
    [
        ("en", "22151", "USD", "$22,151"),
        ("ru", "22151", "USD", f"22{NBSP}151{NBSP}$"),
        ("en", "1500.5", "RUB", "₽1,500.50"),
        ("ru", "1500.5", "RUB", f"1{NBSP}500,50{NBSP}₽"),
        ("en", "10", "XYZ", f"XYZ{NBSP}10"),
        ("ar", "22151", "USD", f"{RLI}22,151{NBSP}${PDI}"),
    ],
)
def test_money_is_written_as_the_readers_language_writes_it(
    locale: str, amount: str, currency: str, text: str
) -> None:
    assert Tr(locale).money(Decimal(amount), currency) == text


@pytest.mark.parametrize("locale", ["en", "ru", "ar"])
def test_the_currency_symbol_never_wraps_away_from_its_number(locale: str) -> None:
    assert " " not in Tr(locale).money(Decimal("1234567.89"), "EUR")


def test_an_arabic_date_uses_the_arabic_comma() -> None:
    now = datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert Tr("ar").when(datetime(2026, 12, 5, 10, tzinfo=UTC), now=now) == "5 ديسمبر، 10:00"


def test_a_latin_name_inside_an_arabic_sentence_is_isolated_and_an_arabic_one_is_not() -> None:
    tr = Tr("ar")
    assert f"{FSI}Olga{PDI}" in tr("{name} gave you this deal:", name="Olga")
    assert FSI not in tr("{name} gave you this deal:", name="أولغا")
    assert tr.ngettext("{n} deal", "{n} deals", 3) == "3 صفقات"  # digits read right as they are


def test_every_line_to_an_arabic_reader_starts_right_to_left() -> None:
    text = orient_text(f"🔥<b>{FSI}ACME phones{PDI}</b> #12\n📞 Ivan", "ar")
    assert all(line.startswith(RLM) for line in text.split("\n"))


def test_an_english_line_holding_an_arabic_title_stays_left_to_right() -> None:
    text = orient_text(f"🔥<b>{FSI}غلاية{PDI}</b> #12\n💬 Call them", "en")
    assert text.split("\n") == [f"{LRM}🔥<b>{FSI}غلاية{PDI}</b> #12", "💬 Call them"]


def test_a_phone_number_in_arabic_text_is_isolated_left_to_right_even_inside_a_link() -> None:
    text = orient_text('📞 <a href="tel:+74951234567">+7 495 123-45-67</a>', "ar")
    assert f'<a href="tel:+74951234567">{LRI}+7 495 123-45-67{PDI}</a>' in text


def test_arrows_point_the_way_an_arabic_reader_reads_but_not_inside_a_latin_title() -> None:
    assert orient_label("المرحلة التالية ▶", "ar") == "المرحلة التالية ◀"
    assert orient_text(f"{FSI}A → B{PDI} ←", "ar") == f"{RLM}{FSI}A → B{PDI} →"
    assert orient_label("Next ▶", "en") == "Next ▶"


def test_an_arabic_reports_conversion_line_points_its_arrow_right_to_left() -> None:
    line = orient_text(Tr("ar")("{entered} in → {on} on, {lost} lost", entered=33, on="70%", lost="3%"), "ar")
    assert "←" in line and "→" not in line
