"""What the chat core answers with: views (text and buttons) and the actions that show them.

Views are Telegram-shaped but framework-free: a runtime (aiogram, python-telegram-bot) turns them
into API calls. Texts are Telegram HTML built from escaped parts, one self-contained line at a time,
so that ``fit`` can cut a long text at a line boundary and stay valid.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.core import codec
from bot.core.widths import fits, room, shorten, squeeze

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
BUTTON_TEXT_LIMIT = 48
ROW_LIMIT = 8


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    data: str | None = None
    url: str | None = None
    web_app: str | None = None

    @classmethod
    def act(cls, text: str, action: codec.Action) -> Button:
        """A button for ``action``; a label wider than a whole row is cut at a word's end."""
        label = squeeze(text)
        return cls(label if fits(label) else shorten(label, room(1)), data=codec.encode(action))


@dataclass(frozen=True, slots=True)
class Menu:
    """The persistent reply keyboard under the input field."""

    rows: tuple[tuple[str, ...], ...]
    contact_button: str | None = None  # a "share my phone" button, in dialogs that ask for a phone


@dataclass(frozen=True, slots=True)
class View:
    html: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    menu: Menu | None = None
    remove_menu: bool = False

    @classmethod
    def of(cls, lines: Iterable[str], buttons: Sequence[Sequence[Button]] = (), **kw: object) -> View:
        return cls(fit(list(lines)), tuple(tuple(r) for r in buttons if r), **kw)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Send:
    view: View
    chat_id: int | None = None  # None: the chat the event came from


@dataclass(frozen=True, slots=True)
class Edit:
    """Redraw a message in place (a card that changed); falls back to sending if it is gone."""

    message_id: int
    view: View


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer to a button press: a short toast, or an alert that must be dismissed.

    ``text`` is Telegram HTML like a message's (it is sent as one when the press was answered
    already); Telegram shows a toast as plain text, so it goes out as ``plain``.
    """

    text: str | None = None
    alert: bool = False

    @property
    def plain(self) -> str | None:
        """The text as Telegram shows a toast: without tags, "R&amp;D" read as "R&D"."""
        return html.unescape(re.sub(r"<[^>]*>", "", self.text)) if self.text else None


@dataclass(frozen=True, slots=True)
class SendPhoto:
    png: bytes
    caption: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    filename: str = "chart.png"
    chat_id: int | None = None


@dataclass(frozen=True, slots=True)
class SendAudio:
    """An audio file (a call's recording) with a caption: Telegram's sendAudio for what its player plays
    (MP3, M4A), sendDocument for any other file (an Asterisk WAV)."""

    data: bytes
    filename: str
    caption: str
    title: str | None = None
    duration_s: int | None = None
    chat_id: int | None = None

    @property
    def playable(self) -> bool:
        return self.filename.lower().endswith((".mp3", ".m4a"))


@dataclass(frozen=True, slots=True)
class Typing:
    """Show "typing…" while something slow is prepared."""


@dataclass(frozen=True, slots=True)
class SetCommands:
    """The command menu Telegram shows in this chat (per role and language), and the menu button
    beside the input — its label in the chat's language, the board app's address — when the board is on."""

    commands: tuple[tuple[str, str], ...]
    menu_button: tuple[str, str] | None = None  # label, board app URL


Action = Send | Edit | Answer | SendPhoto | SendAudio | Typing | SetCommands


@dataclass(slots=True)
class Reply:
    actions: list[Action] = field(default_factory=list)
    duplicate: bool = False  # the update was handled before: the runtime does nothing, not even answer
    outcome: str = "ok"  # for metrics: ok, duplicate, refused, stale, error, unavailable, muted
    stranger: bool = False  # to someone outside the team: sent after members' replies, never retried
    locale: str | None = None  # the reader's language, when the update changed it (laid out for it)

    def send(self, view: View) -> Reply:
        self.actions.append(Send(view))
        return self

    def edit(self, message_id: int | None, view: View) -> Reply:
        self.actions.append(Edit(message_id, view) if message_id else Send(view))
        return self

    def answer(self, text: str | None = None, *, alert: bool = False) -> Reply:
        self.actions.append(Answer(text, alert))
        return self


def short(text: str, limit: int = BUTTON_TEXT_LIMIT) -> str:
    """A button label that fits on a phone screen."""
    clean = re.sub(r"[ \t\r\n]+", " ", text).strip()  # not the no-break spaces that hold an amount together
    return clean if len(clean) <= limit else clean[: limit - 1].rstrip() + "…"


def fit(lines: list[str], limit: int = TEXT_LIMIT) -> str:
    """Join lines, dropping whole lines from the end (with a "…" line) until Telegram accepts the text."""
    text = "\n".join(lines).strip("\n") or "…"
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = 2
    for line in lines:
        if len(line) > limit - 2:
            line = _cut(line, limit - 3)
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join([*kept, "…"])


def _cut(line: str, size: int) -> str:
    """Cut an over-long line without leaving half a tag or half an entity behind."""
    plain = re.sub(r"<[^>]*>", "", line)[:size]
    return re.sub(r"&[#a-zA-Z0-9]*$", "", plain) + "…"


def rows(buttons: Sequence[Button], per_row: int) -> list[list[Button]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]
