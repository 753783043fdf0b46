"""What reaches the chat core: one event per Telegram update, whatever framework received it.

In a private chat Telegram's ``chat.id`` is the sender's own id. An update saying otherwise is forged
(posted to the webhook by someone who is not Telegram), so it is refused here, whatever framework
read it: nothing is done and nothing is sent, and a reply always goes to the sender's own chat.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)


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
    on_media: bool = False  # the pressed message has no text to edit (a chart), or is out of reach


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


class TelegramUser(Protocol):
    id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None


def sender_of(user: TelegramUser) -> Sender:
    return Sender(
        id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )


def _someone_elses_private_chat(update_id: int, chat: Any, sender_id: int) -> bool:
    """A private chat that is not the sender's own: log it (the update is refused)."""
    if chat is None or str(chat.type) != "private" or chat.id == sender_id:
        return False
    log.warning(
        "update %s refused: its private chat %s is not its sender %s's (a forged update)",
        update_id,
        chat.id,
        sender_id,
    )
    return True


def from_message(message: Any, update_id: int, bot_username: str | None) -> Event | None:
    """The event for a Bot API ``Message`` as aiogram or python-telegram-bot models it (Telegram's field
    names either way); ``None`` for a message without a sender, or in a private chat not the sender's."""
    if message is None or message.from_user is None:
        return None
    sender = sender_of(message.from_user)
    if _someone_elses_private_chat(update_id, message.chat, sender.id):
        return None
    private = str(message.chat.type) == "private"
    common: dict[str, Any] = {
        "update_id": update_id,
        "sender": sender,
        "chat_id": sender.id if private else message.chat.id,
        "chat_type": str(message.chat.type),
    }
    if message.contact is not None:
        return SharedContact(
            **common, phone=message.contact.phone_number, first_name=message.contact.first_name
        )
    if message.text is None:
        return Other(**common)
    parsed = parse_command(message.text, bot_username)
    if parsed is not None:
        return Command(**common, name=parsed[0], args=parsed[1])
    return Text(**common, text=message.text)


def from_callback(query: Any, update_id: int) -> ButtonPress | None:
    """The event for a Bot API ``CallbackQuery`` (aiogram's or python-telegram-bot's); ``None`` for a
    press on a message in a private chat that is not the presser's."""
    message = query.message
    chat = message.chat if message is not None else None
    sender = sender_of(query.from_user)
    if _someone_elses_private_chat(update_id, chat, sender.id):
        return None
    chat_id, chat_type = sender.id, "private"  # a private chat, or an inline message (no chat)
    if chat is not None and str(chat.type) != "private":
        chat_id, chat_type = chat.id, str(chat.type)
    return ButtonPress(
        update_id=update_id,
        sender=sender,
        chat_id=chat_id,
        chat_type=chat_type,
        query_id=query.id,
        data=query.data or "",
        message_id=message.message_id if message is not None else None,
        on_media=message is not None and not getattr(message, "text", None),
    )
