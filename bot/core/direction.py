"""Each message in its reader's direction, whatever the script of the titles and names inside it.

Telegram lays out each line of a message by its first strong character, so an English card whose deal
has an Arabic title would read right to left, and an Arabic one that starts with a Latin name left to
right. Every line of a message to an Arabic reader starts with a right-to-left mark, and a line to
another reader that holds right-to-left letters with a left-to-right mark. For a right-to-left
reader, phone numbers are isolated left to right (their digit groups would come out reversed), and
arrows point the way the reader reads: "next" points left.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from bot.core.i18n import LRI, PDI, RTL
from bot.core.views import Action, Button, Edit, Send, SendAudio, SendPhoto, View

LRM, RLM = "\u200e", "\u200f"
_MIRRORED = str.maketrans("◀▶⬅➡→←⇨⇦", "▶◀➡⬅←→⇦⇨")
_RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe]")
# Text already isolated (a title, a name, an amount) is left as it is; so are HTML tags.
_KEPT = re.compile("(<[^>]*>|[\u2066\u2067\u2068][^\u2069]*\u2069)")
# A phone number as people and ``phonenumbers`` write it: "+7 495 123-45-67", "(495) 123 45 67".
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d\- ()\u00a0]{5,}\d(?!\w)")


def is_rtl(locale: str) -> bool:
    return locale in RTL


def orient_text(text: str, locale: str) -> str:
    """``text`` (Telegram HTML) laid out for a reader of ``locale``."""
    rtl = is_rtl(locale)
    lines = [(_turn(line) if rtl else line) for line in text.split("\n")]
    return "\n".join(_marked(line, rtl) for line in lines)


def orient_label(label: str, locale: str) -> str:
    """A button's label for a reader of ``locale``: its arrows pointing the way they read."""
    return _turn(label, phones=False) if is_rtl(locale) else label


def orient_view(view: View, locale: str) -> View:
    return dataclasses.replace(
        view, html=orient_text(view.html, locale), buttons=_buttons(view.buttons, locale)
    )


def orient_actions(actions: Iterable[Action], locale: str) -> list[Action]:
    """The actions of a reply, each message laid out for a reader of ``locale``."""
    out: list[Action] = []
    for action in actions:
        if isinstance(action, Send | Edit):
            action = dataclasses.replace(action, view=orient_view(action.view, locale))
        elif isinstance(action, SendPhoto):
            action = orient_photo(action, locale)
        elif isinstance(action, SendAudio):
            action = dataclasses.replace(action, caption=orient_text(action.caption, locale))
        out.append(action)
    return out


def orient_photo(photo: SendPhoto, locale: str) -> SendPhoto:
    return dataclasses.replace(
        photo, caption=orient_text(photo.caption, locale), buttons=_buttons(photo.buttons, locale)
    )


def _buttons(rows: tuple[tuple[Button, ...], ...], locale: str) -> tuple[tuple[Button, ...], ...]:
    if not is_rtl(locale):
        return rows
    return tuple(
        tuple(dataclasses.replace(b, text=orient_label(b.text, locale)) for b in row) for row in rows
    )


def _marked(line: str, rtl: bool) -> str:
    if not line or line[0] in (LRM, RLM):
        return line
    if rtl:
        return RLM + line
    return LRM + line if _RTL_LETTER.search(line) else line


def _turn(text: str, *, phones: bool = True) -> str:
    """Mirror the arrows and isolate the phone numbers of right-to-left text, outside tags and
    outside what is isolated already (a Latin title keeps its own arrows)."""
    parts = _KEPT.split(text)
    for i in range(0, len(parts), 2):  # the even parts are the free text between kept ones
        part = parts[i].translate(_MIRRORED)
        parts[i] = _PHONE.sub(lambda m: f"{LRI}{m.group(0)}{PDI}", part) if phones else part
    return "".join(parts)
