"""Titles, notes, currencies and people's settings, as typed: checked, trimmed, otherwise unchanged."""

from __future__ import annotations

import pytest

from crm_core.domain.errors import InvalidInput
from crm_core.domain.tasks import valid_task_text
from crm_core.domain.users import valid_extension, valid_locale, valid_name, valid_timezone
from crm_core.domain.values import valid_currency, valid_note, valid_title


@pytest.mark.parametrize(
    "title", ["ООО «Ромашка» — поставка", "شركة النور للتجارة", "Launch 🚀🔥", "x" * 200]
)
def test_a_title_in_any_script_is_kept_as_typed(title: str) -> None:
    assert valid_title(f"  {title}\n") == title


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_an_empty_or_overlong_title_is_refused(title: str) -> None:
    with pytest.raises(InvalidInput) as refusal:
        valid_title(title)
    assert refusal.value.field == "title"


def test_notes_and_task_texts_are_trimmed_and_bounded() -> None:
    assert valid_note("  called, no answer ") == "called, no answer"
    assert valid_task_text(" Call back ") == "Call back"
    for bad in ("", "x" * 3001):
        with pytest.raises(InvalidInput):
            valid_note(bad)
    for bad in (" ", "x" * 501):
        with pytest.raises(InvalidInput):
            valid_task_text(bad)


def test_a_currency_is_a_three_letter_code() -> None:
    assert valid_currency(" usd ") == "USD"
    for bad in ("US", "dollars", "12A", ""):
        with pytest.raises(InvalidInput):
            valid_currency(bad)


def test_a_persons_name_has_its_spaces_collapsed_and_a_length_limit() -> None:
    assert valid_name("  Анна   Петрова ") == "Анна Петрова"
    for bad in ("", " ", "x" * 101):
        with pytest.raises(InvalidInput):
            valid_name(bad)


def test_time_zones_locales_and_extensions_are_checked() -> None:
    assert valid_timezone("Europe/Moscow") == "Europe/Moscow"
    assert valid_locale("ru_RU") == "ru"
    assert valid_locale("AR") == "ar"
    assert valid_extension(" 101 ") == "101"
    for check, bad in ((valid_timezone, "Mars/Olympus"), (valid_locale, "fr"), (valid_extension, "10 1")):
        with pytest.raises(InvalidInput):
            check(bad)
