"""One Bot API call: its bot, its parameters, and the checks most methods share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram_emulator import errors
from telegram_emulator.entities import strip_text
from telegram_emulator.errors import ApiError, bad_request, cant_parse_entities
from telegram_emulator.html_parse import HtmlError, parse_html
from telegram_emulator.models import JSON, StoredMessage
from telegram_emulator.params import Params
from telegram_emulator.state import BotState, ChatState, World

MAX_TEXT, MAX_CAPTION = 4096, 1024
ENTITY_FIELDS = {"type", "offset", "length", "url", "language", "custom_emoji_id", "user"}


@dataclass
class Described:
    """A result Telegram sends with a description, like setWebhook's "Webhook was set"."""

    result: Any
    description: str


@dataclass
class Call:
    world: World
    bot: BotState
    params: Params
    method: str

    def chat(self) -> ChatState:
        """The chat named by chat_id, or Telegram's "chat not found"."""
        raw = self.params.raw("chat_id")
        if raw is None:
            raise ApiError(errors.CHAT_ID_EMPTY)
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise ApiError(errors.CHAT_NOT_FOUND) from None
        chat = self.world.chat(self.bot, chat_id)
        if chat is None:
            raise ApiError(errors.CHAT_NOT_FOUND)
        return chat

    def target(self) -> ChatState:
        """The chat the bot wants to write to; 403 when that user blocked the bot."""
        chat = self.chat()
        if chat.type == "private" and chat.id in self.bot.blocked_by:
            raise ApiError(errors.BLOCKED, 403)
        return chat

    def rate_limit(self, chat: ChatState) -> None:
        self.world.limiter.take(self.bot.id, chat.id)

    def text(self) -> tuple[str, list[JSON]]:
        """The `text` parameter, formatted and checked as sendMessage does."""
        text, entities = self.formatted("text", "parse_mode", "entities")
        if not text:
            raise ApiError(errors.TEXT_EMPTY)
        if len(text) > MAX_TEXT:
            raise ApiError(errors.TOO_LONG)
        return text, entities

    def caption(self) -> tuple[str | None, list[JSON]]:
        caption, entities = self.formatted("caption", "parse_mode", "caption_entities")
        if caption is not None and len(caption) > MAX_CAPTION:
            raise ApiError(errors.CAPTION_TOO_LONG)
        return caption or None, entities

    def formatted(self, text_name: str, mode_name: str, entities_name: str) -> tuple[str | None, list[JSON]]:
        text = self.params.get_str(text_name)
        if text is None:
            return None, []
        explicit = self.params.get_json(entities_name)
        mode = (self.params.get_str(mode_name) or "").lower()
        if explicit is not None:
            entities = _checked_entities(explicit)
        elif mode == "html":
            try:
                text, entities = parse_html(text)
            except HtmlError as error:
                raise cant_parse_entities(str(error)) from None
        elif mode in ("markdown", "markdownv2"):
            raise cant_parse_entities(
                f"parse_mode {self.params.get_str(mode_name)} is not emulated; "
                "the Kanbot emulator supports parse_mode HTML or plain text with entities"
            )
        elif mode:
            raise bad_request("unsupported parse_mode")
        else:
            entities = []
        return strip_text(text, entities)

    def reply_to(self, chat: ChatState) -> StoredMessage | None:
        reply = self.params.get_json("reply_parameters")
        message_id = (
            reply.get("message_id") if isinstance(reply, dict) else self.params.get_int("reply_to_message_id")
        )
        if message_id is None:
            return None
        message = chat.get(int(message_id))
        allow = self.params.get_bool("allow_sending_without_reply") or (
            isinstance(reply, dict) and reply.get("allow_sending_without_reply") is True
        )
        if message is None and not allow:
            raise bad_request("message to be replied not found")
        return message


def _checked_entities(raw: Any) -> list[JSON]:
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise cant_parse_entities("entities must be an Array of MessageEntity")
    checked = []
    for entity in raw:
        if not isinstance(entity.get("type"), str):
            raise cant_parse_entities('Field "type" must be of type String')
        if not all(isinstance(entity.get(key), int) and entity[key] >= 0 for key in ("offset", "length")):
            raise cant_parse_entities('Fields "offset" and "length" must be non-negative Integers')
        checked.append({k: v for k, v in entity.items() if k in ENTITY_FIELDS and v is not None})
    return sorted(checked, key=lambda e: (e["offset"], -e["length"]))


Handler = Callable[[Call], Awaitable[Any]]
