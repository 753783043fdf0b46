"""Translations (gettext catalogs read with Babel) and locale-aware formatting of money, dates, numbers.

Catalogs live in ``bot/locales/<locale>/LC_MESSAGES/messages.po``; English is the source language.
They are read at import time (no compile step): ``pybabel extract``/``update`` maintain them.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.core import Locale
from babel.dates import format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_symbol
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SUPPORTED = ("en", "ru", "ar")
RTL = frozenset({"ar"})
# Unicode isolates: what they hold is laid out on its own, whatever the text around it.
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
_ISOLATES = (LRI, RLI, FSI)
_LTR_LETTER = re.compile(
    r"[^\W\d_\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe]"
)  # a letter not of Hebrew or Arabic
_BIDI_CONTROLS = (
    dict.fromkeys(range(0x200E, 0x2010))
    | dict.fromkeys(range(0x202A, 0x202F))
    | dict.fromkeys(range(0x2066, 0x206A))
)
_SYMBOLS = {
    "RUB": "₽",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "KZT": "₸",
    "UAH": "₴",
    "TRY": "₺",
    "INR": "₹",
    "CNY": "¥",
    "JPY": "¥",
}


class Html(str):
    """Markup already safe for Telegram's HTML: inserted into a text as it is, never escaped again."""

    __slots__ = ()


def isolate(text: str) -> str:
    """User text of unknown direction, kept whole inside a sentence of either direction
    (a first-strong isolate: a phone-number title stays readable in an Arabic card)."""
    return f"{FSI}{text}{PDI}" if text else text


def bare(text: str) -> str:
    """``text`` without direction marks and isolates (for a chart, which lays out text itself)."""
    return text.translate(_BIDI_CONTROLS)


def h(value: object) -> Html:
    """Escape user text (names, titles, notes) for Telegram's HTML."""
    return value if isinstance(value, Html) else Html(html.escape(str(value), quote=False))


@cache
def _translations(locale: str) -> NullTranslations:
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == "en" or not path.exists():
        return NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


class Tr:
    """The words and formats of one locale. ``tr("Hello {name}", name=x)`` escapes ``x``."""

    def __init__(self, locale: str, timezone: str = "UTC") -> None:
        self.locale = locale if locale in SUPPORTED else "en"
        self.tz = ZoneInfo(timezone)
        self._t = _translations(self.locale)
        self._babel = Locale.parse(self.locale)

    @property
    def rtl(self) -> bool:
        return self.locale in RTL

    def _isolated(self, value: str) -> str:
        """A value inside a right-to-left sentence (a Latin name, a number) laid out on its own."""
        if not self.rtl or value.startswith(_ISOLATES) or not _LTR_LETTER.search(value):
            return value
        return f"{FSI}{value}{PDI}"

    def __call__(self, message: str, /, **values: Any) -> Html:
        return self.gettext(message, **values)

    def gettext(self, message: str, /, **values: Any) -> Html:
        if not message:  # "" is the catalog's header in gettext, never a text to show
            return Html("")
        return self._fill(self._t.gettext(message), values)

    def label(self, message: str, /, **values: Any) -> str:
        """A translated text as plain text, for a button: its values go in as they are, unescaped
        (a label is not HTML: "Nudge R&D" must not read "Nudge R&amp;D")."""
        if not message:
            return ""
        template = self._t.gettext(message)
        if not values:
            return template
        return template.format(**{k: self._isolated(str(v)) for k, v in values.items()})

    def label_n(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        """``label`` for a count: ``ngettext`` as plain text."""
        template = self._t.ngettext(singular, plural, n)
        filled = {"n": self.number(n), **{k: str(v) for k, v in values.items()}}
        return template.format(**{k: self._isolated(v) for k, v in filled.items()})

    def lost_reason(self, reason: str, note: str | None = None) -> Html:
        """A lost reason translated, followed by the seller's own words when there are some."""
        return Html(f"{self(reason)}: {h(note)}") if note else self(reason)

    def ngettext(self, singular: str, plural: str, n: int, /, **values: Any) -> Html:
        return self._fill(self._t.ngettext(singular, plural, n), {"n": self.number(n), **values})

    def _fill(self, template: str, values: dict[str, Any]) -> Html:
        if not values:
            return Html(template)
        return Html(template.format(**{k: self._isolated(h(v)) for k, v in values.items()}))

    def number(self, value: int | Decimal) -> str:
        return format_decimal(value, locale=self._babel)

    def percent(self, share: float) -> str:
        return format_percent(share, locale=self._babel)

    def money(self, amount: Decimal | None, currency: str) -> str:
        """An amount as the reader's language writes it ("$22,151", "22 151 $"), its symbol held to the
        number by a no-break space; in right-to-left text, isolated so that it stays whole."""
        if amount is None:
            return "—"
        pattern = self._babel.currency_formats["standard"].pattern.split(";")[0].replace("\u200f", "")
        if amount == amount.to_integral_value():
            pattern = re.sub(r"0\.0+", "0", pattern)
        text = format_currency(amount, currency, pattern, locale=self._babel, currency_digits=False)
        ours = _SYMBOLS.get(currency)
        if ours:
            text = text.replace(get_currency_symbol(currency, locale=self._babel), ours, 1)
        text = re.sub(r"(?<=\d)\s(?=\D)|(?<=\D)\s(?=\d)", "\u00a0", text)
        text = re.sub(r"(?<=[^\W\d])(?=\d)|(?<=\d)(?=[^\W\d])", "\u00a0", text)  # "KZT\u00a010", not "KZT10"
        return f"{RLI}{text}{PDI}" if self.rtl else text

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def when(self, moment: datetime, *, now: datetime, relative: bool = True) -> str:
        """A time as a person reads it: "today 15:00", "tomorrow 09:00", "2 Mar, 09:00" — and with its
        year, "1 Dec 2027, 10:00", whenever that is not this year (a date a year away must look it).
        ``relative=False`` names the day even when it is today."""
        local, today = self.local(moment), self.local(now).date()
        if relative:
            if local.date() == today:
                return self("today") + f" {local:%H:%M}"
            if (local.date() - today).days == 1:
                return self("tomorrow") + f" {local:%H:%M}"
            if (today - local.date()).days == 1:
                return self("yesterday") + f" {local:%H:%M}"
        comma = "،" if self.rtl else ","  # Arabic writes its own comma
        pattern = f"d MMM{comma} HH:mm" if local.year == today.year else f"d MMM y{comma} HH:mm"
        return format_datetime(local, pattern, locale=self._babel)

    def duration(self, delta: timedelta) -> str:
        return format_timedelta(delta, threshold=1.1, locale=self._babel)

    def days(self, delta: timedelta) -> str:
        days = max(int(delta.total_seconds() // 86400), 0)
        hours = max(int(delta.total_seconds() // 3600), 0)
        if days == 0 and hours == 0:
            return self("less than an hour")
        if days == 0:
            return self.ngettext("{n} hour", "{n} hours", hours)
        return self.ngettext("{n} day", "{n} days", days)
