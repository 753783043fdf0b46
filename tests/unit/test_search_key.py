"""Searching ignores case, "ё", Arabic diacritics and letter variants."""

from __future__ import annotations

import pytest

from crm_core.domain.values import search_key


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("ACME Order", "acme order"),
        ("ЁЛКА", "елка"),
        ("Пётр Иванов", "петр иванов"),
        ("Straße", "STRASSE"),
        ("أحمد", "احمد"),  # alef with hamza above
        ("إبراهيم", "ابراهيم"),  # alef with hamza below
        ("آمنة", "امنه"),  # alef with madda, and ta marbuta
        ("مُحَمَّد", "محمد"),  # diacritics
        ("مـــحمد", "محمد"),  # tatweel
        ("مصطفى", "مصطفي"),  # alef maqsura
        ("ＡＢＣ", "abc"),  # full-width letters
        ("  two   words ", "two words"),
    ],
)
def test_two_spellings_people_consider_the_same_fold_to_one_key(one: str, other: str) -> None:
    assert search_key(one) == search_key(other)


def test_different_words_stay_different_and_emoji_survive() -> None:
    assert search_key("Петр") != search_key("Пётры")
    assert search_key("Order 🚀") == "order 🚀"
