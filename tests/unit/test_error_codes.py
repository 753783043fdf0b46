"""The core's refusals carry codes; the chat words each code, in every language it speaks."""

from __future__ import annotations

import importlib
import pkgutil
from string import Formatter

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

import crm_core
from bot.core.errors import MESSAGES, REASONS, explain
from bot.core.i18n import LOCALES_DIR, Tr
from crm_core.domain.errors import WHY_TEXT, CrmError, InvalidInput, Why

LOCALES = ["ru", "ar"]


def every_error_class() -> list[type[CrmError]]:
    for module in pkgutil.walk_packages(crm_core.__path__, "crm_core."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found, todo = [], [CrmError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def catalog(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=locale)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def test_every_error_code_of_the_core_has_a_sentence_in_the_chat() -> None:
    codes = {error.code for error in every_error_class()}
    assert codes - MESSAGES.keys() == set()


def test_every_reason_code_has_an_english_text_in_the_core_and_words_in_the_chat() -> None:
    assert set(WHY_TEXT) == set(Why) == set(REASONS)
    for why in Why:
        assert fields(WHY_TEXT[why]) == fields(REASONS[why]), why


@pytest.mark.parametrize("locale", LOCALES)
def test_every_error_and_reason_code_is_translated(locale: str) -> None:
    messages = catalog(locale)
    for text in [*MESSAGES.values(), *REASONS.values()]:
        message = messages.get(text)
        assert message is not None and message.string and not message.fuzzy, f"{locale}: {text!r}"
        assert fields(str(message.string)) == fields(text), f"{locale}: {text!r}"


def test_a_reason_is_said_by_its_code_whatever_the_core_calls_it_in_english() -> None:
    refusal = InvalidInput("title", "x" * 300, Why.TOO_LONG, most=200)
    assert str(refusal) == f"Invalid title: {'x' * 57 + '...'!r} (at most 200 characters)."
    assert explain(refusal, Tr("ru")) == "Не подходит название: не больше 200 символов."


def test_a_refusal_only_the_cli_reads_keeps_its_english_detail() -> None:
    refusal = InvalidInput("funnel file", "stages", detail="a mapping with a `stages:` list is required")
    assert "a mapping with a `stages:` list is required" in explain(refusal, Tr("ar"))
