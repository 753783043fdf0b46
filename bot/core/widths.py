"""How wide a button label is on a phone, and labels and rows built to fit it.

Telegram cuts a label that does not fit its button with "…", wherever that falls: inside an amount
("18,082.6…") or a name. The widths here are those of a 390 px wide phone (the emulator's page in
``make screenshots``: a keyboard 329 px wide, 14 px type, 10 px padding each side), measured for a
rather wide font (DejaVu Sans), so a label that fits here fits on the phones people carry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TypeVar

from bot.core.glyph_widths import chars_px

KEYBOARD_PX = 329.0
GAP_PX = 4.0
PADDING_PX = 20.0
MAX_PER_ROW = 3
ELLIPSIS = "…"
_SPACES = re.compile(r"[ \t\r\n]+")
_TRAILING = " ,.;:·-—"
# A piece of a number as people space it: "+7", "495", "824-88-61", "(495)", "1,000.50".
_NUMBER_PART = re.compile(r"^[+(]?\d[\d().,\-]*$")

T = TypeVar("T")


def squeeze(text: str) -> str:
    """``text`` on one line, its runs of spaces one space (not the no-break spaces that hold an amount
    together)."""
    return _SPACES.sub(" ", text).strip()


def room(per_row: int) -> float:
    """The text width (px) of one button in a row of ``per_row`` buttons."""
    return (KEYBOARD_PX - GAP_PX * (per_row - 1)) / per_row - PADDING_PX


def text_px(text: str) -> float:
    """The width of ``text`` on a button, in px (measured widths: see bot/core/glyph_widths.py)."""
    return chars_px(text)


def fits(text: str, per_row: int = 1) -> bool:
    """Whether ``text`` shows whole on a button of a row of ``per_row``."""
    return text_px(text) <= room(per_row)


def by_words(text: str, width: float) -> str | None:
    """``text`` cut at a word's end to fit ``width`` px, with "…"; None when not even its first word fits."""
    text = squeeze(text)
    if text_px(text) <= width:
        return text
    kept = ""
    for word in _words(text):
        candidate = f"{kept} {word}" if kept else word
        if text_px(candidate.rstrip(_TRAILING) + ELLIPSIS) > width:
            break
        kept = candidate
    return kept.rstrip(_TRAILING) + ELLIPSIS if kept.rstrip(_TRAILING) else None


def _words(text: str) -> list[str]:
    """``text``'s words, a spaced number ("+7 495 824-88-61") kept as one, so no cut falls inside it."""
    words: list[str] = []
    for word in text.split(" "):
        if words and _NUMBER_PART.match(word) and _NUMBER_PART.match(words[-1].rsplit(" ", 1)[-1]):
            words[-1] += " " + word
        else:
            words.append(word)
    return words


def shorten(text: str, width: float) -> str:
    """``text`` cut at a word's end to fit ``width`` px, with "…": never inside a word, so never inside
    a number or a name; only a first word too long for ``width`` alone is cut where it must be."""
    words = by_words(text, width)
    if words is not None:
        return words
    out = ""
    for char in squeeze(text):
        if text_px(out + char + ELLIPSIS) > width:
            break
        out += char
    return out + ELLIPSIS


def pack(labelled: Iterable[tuple[str, T]], *, most: int = MAX_PER_ROW) -> list[list[T]]:
    """Buttons in rows, in order, as many on a row (up to ``most``) as show their labels whole."""
    rows: list[list[T]] = []
    row: list[tuple[str, T]] = []
    for label, item in labelled:
        candidate = [*row, (label, item)]
        if row and (len(candidate) > most or not all(fits(t, len(candidate)) for t, _ in candidate)):
            rows.append([i for _, i in row])
            candidate = [(label, item)]
        row = candidate
    if row:
        rows.append([i for _, i in row])
    return rows


def too_wide(rows: Sequence[Sequence[str]]) -> list[str]:
    """The labels of ``rows`` that a phone would cut (too wide for their row)."""
    return [label for row in rows for label in row if not fits(label, len(row))]
