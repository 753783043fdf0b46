"""How wide each character is drawn on a button: the measured table behind bot/core/widths.py.

Advance widths in px of 14 px type as headless Chromium draws the emulator's buttons (DejaVu Sans for
Latin, Cyrillic and Arabic, a rather wide font; Noto Color Emoji), rounded up to 0.1 px. Measured by
docs/images/measure_widths.py, which prints these tables again. A sum of these widths matches what
Chromium draws for Latin and Cyrillic labels (it does not kern them); Arabic letters take the width of
their joined form, "inner" when joined to the next letter, "end" at a word's end.
"""

from __future__ import annotations

import unicodedata

EMOJI_PX = 17.5  # an emoji, or a symbol a phone may draw as one (⚠, ▶, ⬅)
UNKNOWN_PX = 14.0  # a character not measured here: as wide as the type is high
_ZWJ, _EMOJI_STYLE = "\u200d", "\ufe0f"
_RIGHT_JOINING = frozenset("ءآأؤإادذرزوة")  # Arabic letters never joined to the next one


def _table(groups: dict[float, str]) -> dict[str, float]:
    return {char: px for px, chars in groups.items() for char in chars}


_PX = _table(
    {
        2.8: "\u202f",
        3.9: "'ijlіїј",
        4.2: "IJІЇЈ",
        4.5: " ,.\xa0·‘’؛",
        4.6: "،",
        4.8: "/:;\\|",
        5.0: "f",
        5.1: "-",
        5.5: "()[]t",
        5.7: "!‹›",
        5.8: "r",
        6.5: '"',
        7.0: "*_`–°",
        7.3: "sѕ“”„",
        7.4: "zгѓ",
        7.5: "?з؟",
        7.6: "٠١٢٣٤٥٦٧٨٩٪",
        7.7: "cсэє",
        7.9: "L",
        8.1: "F",
        8.2: "kт",
        8.3: "vxyвухчьў•",
        8.5: "PРкяќ",
        8.6: "TYaoЃЎГТУао«»",
        8.7: "eбеѐё",
        8.8: "ђ",
        8.9: "ESbdghnpquЀЁЅЕр",
        9.0: "$0123456789{}Зл€₽£¥₹",
        9.2: "Kийнпћѝџ",
        9.6: "AVXZАХц",
        9.7: "BБВЧЬд",
        9.8: "CRЄСЭЯ",
        10.0: "ЌКъ",
        10.3: "U",
        10.5: "NЍИЙ",
        10.6: "HЏЛНПм",
        10.8: "D",
        10.9: "GЦ",
        11.0: "&Д",
        11.1: "OQЂЋОы",
        11.5: "w",
        11.7: "Ъ",
        11.8: "#+<=>^~ю×→←↑↓",
        12.0: "ф",
        12.1: "MМФ",
        12.4: "Ы",
        12.6: "њ",
        12.7: "жљ",
        12.9: "ш",
        13.2: "щ",
        13.4: "%",
        13.7: "m",
        13.9: "W",
        14.0: "@…—⋯",
        14.6: "№",
        14.7: "Њ",
        15.0: "Ш",
        15.1: "Ж",
        15.2: "Ю",
        15.4: "ЉЩ",
    }
)
_ARABIC_INNER = _table(
    {
        4.3: "آأإئابتثنىي",
        4.7: "ل",
        6.6: "ء",
        7.1: "فق",
        7.3: "ؤو",
        7.4: "دذغه",
        7.5: "ة",
        7.8: "رزك",
        8.1: "م",
        8.4: "ع",
        9.1: "جحخ",
        11.5: "طظ",
        12.2: "صض",
        12.5: "سش",
    }
)
_ARABIC_END = _table(
    {
        4.3: "آأإا",
        6.6: "ء",
        7.3: "ؤو",
        7.4: "دذ",
        7.5: "ةه",
        7.8: "رز",
        8.4: "عغ",
        9.1: "جحخ",
        9.4: "م",
        10.7: "لن",
        11.7: "ئقىي",
        11.8: "ك",
        13.3: "طظ",
        13.8: "بتث",
        14.6: "ف",
        17.2: "صض",
        17.9: "سش",
    }
)


_JOINS_NEXT = frozenset(_ARABIC_INNER) - _RIGHT_JOINING


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Me", "Cf")  # marks, direction marks, joiners


def _is_emoji(char: str, after: str) -> bool:
    code = ord(char)
    return after == _EMOJI_STYLE or code >= 0x1F000 or (code >= 0x2190 and unicodedata.category(char) == "So")


def chars_px(text: str) -> float:
    """The width of ``text`` drawn on one line, in px."""
    total = 0.0
    for n, char in enumerate(text):
        after = text[n + 1] if n + 1 < len(text) else ""
        if _invisible(char) or (n and text[n - 1] == _ZWJ):  # a joined emoji's parts draw as one
            continue
        if _is_emoji(char, after):
            total += EMOJI_PX
        elif char in _ARABIC_END:
            total += _ARABIC_INNER[char] if char in _JOINS_NEXT and _joins(text, n + 1) else _ARABIC_END[char]
        else:
            total += _PX.get(char, UNKNOWN_PX)
    return total


def _joins(text: str, start: int) -> bool:
    """Whether the first visible character from ``start`` on is an Arabic letter a letter joins to."""
    for char in text[start:]:
        if unicodedata.category(char) not in ("Mn", "Me"):
            return char in _ARABIC_END and char != "ء"
    return False
