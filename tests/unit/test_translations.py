"""The chat's translations: complete, faithful to their English, in step with the code, really used."""

from __future__ import annotations

import ast
import gettext
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.core.errors import REASONS
from bot.core.features.card import EDIT_FIELDS
from bot.core.features.reports import PERIODS
from bot.core.i18n import LOCALES_DIR, Tr
from bot.core.when import parse_when
from crm_core.domain.deals import Priority
from crm_core.domain.errors import Why
from crm_core.domain.funnel import DEFAULT_FUNNEL, DEFAULT_LOST_REASONS
from crm_core.domain.values import parse_amount
from crm_core.services.deal_edits import EDITABLE

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = LOCALES_DIR / "messages.pot"
LOCALES = ["ru", "ar"]
# pybabel's keywords besides its defaults, as the Makefile's `translations` target gives them.
KEYWORDS = ["-k", "tr", "-k", "self", "-k", "label", "-k", "label_n:1,2"]
# The calls whose first literal argument is a text to translate: tr(...), ctx.tr(...), self(...) in Tr,
# N_(...), tr.ngettext(...), and the plain-text labels of buttons: tr.label(...), tr.label_n(...).
TRANSLATING = {"tr", "self", "N_", "gettext", "ngettext", "label", "label_n"}
SOURCES = ["bot/core", "bot/webapp"]  # where babel.cfg has pybabel look for them
# Texts the code picks from tables at run time, so no call in the code shows them to pybabel.
RUN_TIME_TEXTS = {
    "bot/core/features/card.py EDIT_FIELDS": list(EDIT_FIELDS.values()),
    "bot/core/features/reports.py PERIODS": list(PERIODS.values()),
    "crm_core Priority": [level.value for level in Priority],
    "crm_core EDITABLE (edits in the history)": list(EDITABLE),
    "crm_core DEFAULT_FUNNEL stage names": [stage.name for stage in DEFAULT_FUNNEL],
    "crm_core DEFAULT_FUNNEL playbooks": [stage.playbook for stage in DEFAULT_FUNNEL if stage.playbook],
    "crm_core DEFAULT_LOST_REASONS": list(DEFAULT_LOST_REASONS),
}
HOW_TO_FIX = (
    "run `make translations`, translate the new texts in bot/locales/{ru,ar}/LC_MESSAGES/messages.po "
    "and commit the template and the catalogs (see CONTRIBUTING.md)"
)
EXAMPLE = re.compile(r"«([^»]+)»")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def catalog(locale: str) -> Catalog:
    return read(LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po", locale)


def msgid(message: Message) -> str:
    return str(message.id[0] if isinstance(message.id, tuple) else message.id)


def texts(messages: Catalog) -> set[str]:
    return {msgid(m) for m in messages if m.id}


def forms(message: Message) -> tuple[str, ...]:
    string = message.string
    return tuple(string) if isinstance(string, tuple) else (str(string or ""),)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def tags(text: str) -> Counter[str]:
    return Counter(re.findall(r"</?[a-zA-Z][^>]*>", text))


def literal_texts(path: Path) -> Iterator[tuple[int, str]]:
    """The literal texts a module passes to the translating calls, f-strings included."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        first = node.args[0]
        text = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
        if name in TRANSLATING and text:
            yield node.lineno, text


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_of_the_template_is_translated(locale: str) -> None:
    translations = catalog(locale)
    missing = []
    for english in read(TEMPLATE):
        if not english.id:
            continue
        found = translations.get(english.id)
        count = translations.num_plurals if english.pluralizable else 1
        if found is None or found.fuzzy or len(forms(found)) != count or not all(forms(found)):
            missing.append(msgid(english))
    assert not missing, f"{locale}: untranslated or fuzzy; {HOW_TO_FIX}:\n" + "\n".join(missing)


ARROWS = re.compile("[◀▶⬅➡→←⇨⇦]")


@pytest.mark.parametrize("locale", LOCALES)
def test_a_translation_keeps_the_arrows_of_its_english_for_the_chat_turns_them(locale: str) -> None:
    """bot/core/direction.py turns every arrow of an Arabic message to point right to left: an arrow
    a translator turned already would be turned back ("دخلت 33 → انتقلت 70%")."""
    turned = [
        f"{msgid(m)!r} → {text!r}"
        for m in catalog(locale)
        if m.id
        for text in forms(m)
        if text and ARROWS.findall(text) != ARROWS.findall(msgid(m))
    ]
    assert not turned, f"{locale}: arrows differ from the English:\n" + "\n".join(turned)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_catalog_holds_only_the_texts_of_the_template(locale: str) -> None:
    stale = texts(catalog(locale)) - texts(read(TEMPLATE))
    assert not stale, f"{locale}: texts the template no longer has; {HOW_TO_FIX}: {sorted(stale)}"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders_and_tags_of_their_english(locale: str) -> None:
    translations = catalog(locale)
    plural = gettext.c2py(translations.plural_expr)
    only_number = {
        form for form in range(translations.num_plurals) if sum(plural(n) == form for n in range(1000)) == 1
    }
    wrong = []
    for message in translations:
        if not message.id:
            continue
        english = message.id[-1] if isinstance(message.id, tuple) else str(message.id)
        for form, text in enumerate(forms(message)):
            found, expected = placeholders(text), placeholders(english)
            if message.pluralizable and form in only_number and found == expected - {"n"}:
                found = expected  # a form used for one number may say it in words: "صفقتان" (two deals)
            if text and (found != expected or tags(text) != tags(english)):
                wrong.append(f"{english!r} → {text!r}")
    assert not wrong, f"{locale}: placeholders or HTML tags differ from the English:\n" + "\n".join(wrong)


def test_the_template_is_up_to_date_with_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    extract = [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg", *KEYWORDS]
    subprocess.run(
        [*extract, "-o", str(fresh), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    in_code, in_template = texts(read(fresh)), texts(read(TEMPLATE))
    assert in_code == in_template, (
        f"bot/locales/messages.pot is out of date; {HOW_TO_FIX}.\n"
        f"New in the code: {sorted(in_code - in_template)}\n"
        f"Gone from the code: {sorted(in_template - in_code)}"
    )


def test_every_literal_text_the_chat_translates_is_in_the_template() -> None:
    """On Python 3.11 pybabel does not look inside f-strings: write ``"<b>" + tr("…") + "</b>"``."""
    known = texts(read(TEMPLATE))
    unseen = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for folder in SOURCES
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line, text in literal_texts(path)
        if text not in known
    ]
    assert not unseen, "translated but not extracted (inside an f-string?):\n" + "\n".join(unseen)


@pytest.mark.parametrize("table", sorted(RUN_TIME_TEXTS))
def test_texts_the_chat_picks_from_tables_are_in_the_template(table: str) -> None:
    known = texts(read(TEMPLATE))
    missing = [text for text in RUN_TIME_TEXTS[table] if text not in known]
    assert not missing, (
        f"{table}: shown through tr() but never extracted; mark them with N_() where they are written "
        f"or list them in bot/locales/runtime_texts.py: {missing}"
    )


@pytest.mark.parametrize(
    ("locale", "english", "translated"),
    [
        ("ru", "My deals", "Мои сделки"),
        ("ar", "My deals", "صفقاتي"),
        ("ru", "Language: English", "Язык: русский"),
        ("ar", "Language: English", "اللغة: العربية"),
        ("ru", "Commercial offer", "Коммерческое предложение"),
        ("ar", "Signing & payment", "التوقيع والدفع"),
    ],
)
def test_the_chat_speaks_the_users_language(locale: str, english: str, translated: str) -> None:
    assert Tr(locale)(english) == translated


def test_a_translated_text_still_escapes_what_it_is_filled_with() -> None:
    assert Tr("ru")("Given to {name}.", name="<Bob & Co>") == "Ответственный теперь: &lt;Bob &amp; Co&gt;."


@pytest.mark.parametrize(
    ("n", "deals"),
    [
        (1, "1 сделка"),
        (2, "2 сделки"),
        (5, "5 сделок"),
        (11, "11 сделок"),
        (21, "21 сделка"),
        (22, "22 сделки"),
        (112, "112 сделок"),
    ],
)
def test_russian_counts_deals_in_three_forms(n: int, deals: str) -> None:
    assert Tr("ru").ngettext("{n} deal", "{n} deals", n) == deals


@pytest.mark.parametrize(
    ("n", "deals"),
    [(0, "0 صفقة"), (1, "صفقة واحدة"), (2, "صفقتان"), (3, "3 صفقات"), (11, "11 صفقة"), (100, "100 صفقة")],
)
def test_arabic_counts_deals_in_six_forms(n: int, deals: str) -> None:
    assert Tr("ar").ngettext("{n} deal", "{n} deals", n) == deals


@pytest.mark.parametrize(("locale", "today"), [("ru", "сегодня 15:00"), ("ar", "اليوم 15:00")])
def test_a_time_later_today_is_said_in_the_users_language(locale: str, today: str) -> None:
    assert Tr(locale).when(NOW + timedelta(hours=6), now=NOW) == today


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "prompt",
    [
        'When? Tap a time, or type one: "in 2h", "tomorrow 10:00", "25.12 15:00".',
        'Until when? For example "25.12", "next monday" or "in 2 weeks".',
        REASONS[Why.TIME_FORMS],
    ],
)
def test_the_times_a_translation_suggests_are_understood(locale: str, prompt: str) -> None:
    examples = EXAMPLE.findall(Tr(locale)(prompt))
    assert examples, f"{locale}: no «example» in the translation of {prompt!r}"
    for example in examples:
        assert parse_when(example, now=NOW, tz="UTC") > NOW


@pytest.mark.parametrize("locale", LOCALES)
def test_the_amounts_a_translation_suggests_are_understood(locale: str) -> None:
    examples = EXAMPLE.findall(Tr(locale)('The amount? e.g. "1 500,50" or "15k".'))
    assert examples
    assert all(parse_amount(example) > 0 for example in examples)


@pytest.mark.parametrize("locale", LOCALES)
def test_an_empty_text_stays_empty(locale: str) -> None:
    assert Tr(locale)("") == ""
