"""What reaches the chat core: one event per Telegram update, whatever framework received it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sender:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or str(self.id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    update_id: int
    sender: Sender
    chat_id: int
    chat_type: str = "private"

    @property
    def private(self) -> bool:
        return self.chat_type == "private"


@dataclass(frozen=True, slots=True, kw_only=True)
class Command(Event):
    """``/name args`` — ``name`` lower-cased, without the slash or ``@botname``."""

    name: str
    args: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Text(Event):
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedContact(Event):
    phone: str
    first_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonPress(Event):
    query_id: str
    data: str
    message_id: int | None = None


def parse_command(text: str, bot_username: str | None = None) -> tuple[str, str] | None:
    """``("start", "abc")`` for ``/start abc`` (or ``/start@bot abc``); ``None`` for other text."""
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, args = text[1:].partition(" ")
    name, _, target = head.partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    if not name or not all(c.isalnum() or c == "_" for c in name):
        return None
    return name.lower(), args.strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class Other(Event):
    """A message the CRM has no use for (a sticker, a voice note...)."""
