"""Values typed by people: amounts, titles, currencies, search text."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from crm_core.domain.errors import InvalidInput, Why

MAX_TITLE = 200
MAX_NOTE = 3000
MAX_AMOUNT = Decimal("999999999999.99")  # what Numeric(14, 2) holds
CENT = Decimal("0.01")

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009'’_]+")
_CURRENCY_MARKS = re.compile(r"(?i)(руб\.?|р\.|₽|\$|€|£|¥|₸|₴|usd|eur|rub|aed|sar|egp|kzt)")
_MULTIPLIERS = {"k": 1000, "к": 1000, "тыс": 1000, "m": 1_000_000, "м": 1_000_000, "млн": 1_000_000}
_MULTIPLIER_SUFFIX = re.compile(r"(?i)(тыс|млн|k|к|m|м)\.?$")
_ARABIC_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})
_ISO_4217 = re.compile(r"^[A-Z]{3}$")
# What Telegram users type to send a message that looks empty: fillers that are letters to Unicode.
_BLANK_FILLERS = frozenset("\u115f\u1160\u2800\u3164\uffa0")


def _ascii_digits(text: str) -> str:
    """Arabic-Indic and other Unicode digits as ASCII digits."""
    return "".join(str(unicodedata.digit(ch)) if ch.isdigit() and not ch.isascii() else ch for ch in text)


def parse_amount(raw: str) -> Decimal:
    """Read an amount as people type it: "1 500,50", "1,500.50", "1500.5", "15k", "1.2 млн"."""
    text = _ascii_digits(unicodedata.normalize("NFKC", raw)).strip().replace("٫", ".").replace("٬", ",")
    text = _CURRENCY_MARKS.sub("", text)
    text = _SPACES.sub("", text)
    multiplier = 1
    suffix = _MULTIPLIER_SUFFIX.search(text)
    if suffix:
        multiplier = _MULTIPLIERS[suffix.group(1).lower()]
        text = text[: suffix.start()]
    if (
        not text
        or text.startswith("-")
        or not re.fullmatch(r"[0-9.,]+", text)
        or not any(c.isdigit() for c in text)
    ):
        raise InvalidInput("amount", raw, Why.NOT_AN_AMOUNT)
    number = _normalise_separators(text, raw)
    try:
        value = Decimal(number) * multiplier
    except InvalidOperation:
        raise InvalidInput("amount", raw, Why.NOT_AN_AMOUNT) from None
    # Checked before quantize(), which cannot hold more digits than the decimal context's precision.
    if value > MAX_AMOUNT:
        raise InvalidInput("amount", raw, Why.TOO_LARGE)
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise InvalidInput("amount", raw, Why.TWO_DECIMALS)
    return value.quantize(CENT)


def _normalise_separators(text: str, raw: str) -> str:
    """Decide which of "," and "." is the decimal mark, the other being a thousands separator."""
    last_dot, last_comma = text.rfind("."), text.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        decimal_mark = "." if last_dot > last_comma else ","
        thousands = "," if decimal_mark == "." else "."
        integer, _, fraction = text.rpartition(decimal_mark)
        if decimal_mark in integer or not _thousands_ok(integer, thousands):
            raise InvalidInput("amount", raw, Why.SEPARATORS)
        return integer.replace(thousands, "") + "." + fraction
    mark = "." if last_dot >= 0 else "," if last_comma >= 0 else None
    if mark is None:
        return text
    parts = text.split(mark)
    if len(parts) > 2:  # "1,500,000" or "1.500.000": thousands only
        if not _thousands_ok(text, mark):
            raise InvalidInput("amount", raw, Why.SEPARATORS)
        return text.replace(mark, "")
    integer, fraction = parts
    if len(fraction) == 3 and integer and integer != "0":  # "1,500" / "1.500": a thousands separator
        return integer + fraction
    return (integer or "0") + "." + fraction


def _thousands_ok(integer: str, sep: str) -> bool:
    groups = integer.split(sep)
    if len(groups) == 1:
        return True
    return bool(groups[0]) and len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def format_amount(value: Decimal | None) -> str | None:
    """The amount as the public JSON shows it: a decimal string with two places."""
    return None if value is None else str(value.quantize(CENT))


def _shows_nothing(text: str) -> bool:
    """Whitespace, invisible format characters and blank fillers only: an "empty" message."""
    return all(ch.isspace() or ch in _BLANK_FILLERS or unicodedata.category(ch) == "Cf" for ch in text)


def valid_title(raw: str) -> str:
    """A deal's title: any script, 1 to 200 characters once trimmed, something visible among them."""
    title = raw.strip()
    if _shows_nothing(title):
        raise InvalidInput("title", raw, Why.EMPTY)
    if len(title) > MAX_TITLE:
        raise InvalidInput("title", raw, Why.TOO_LONG, most=MAX_TITLE)
    return title


def valid_note(raw: str) -> str:
    text = raw.strip()
    if _shows_nothing(text):
        raise InvalidInput("note", raw, Why.EMPTY)
    if len(text) > MAX_NOTE:
        raise InvalidInput("note", raw, Why.TOO_LONG, most=MAX_NOTE)
    return text


def valid_currency(raw: str) -> str:
    code = raw.strip().upper()
    if not _ISO_4217.match(code):
        raise InvalidInput("currency", raw, Why.CURRENCY)
    return code


def search_key(text: str) -> str:
    """Text folded for searching: case, "ё", Arabic diacritics and letter variants do not matter."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    folded = _ARABIC_DIACRITICS.sub("", folded).translate(_ARABIC_FOLD)
    return " ".join(folded.split())
