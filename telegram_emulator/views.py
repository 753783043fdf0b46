"""Chats and messages as the user sees them: the JSON of the control API and the web page."""

from __future__ import annotations

import time

from telegram_emulator.entities import to_html
from telegram_emulator.models import JSON, StoredFile, StoredMessage
from telegram_emulator.state import BotState, ChatState

ACTION_SHOWN_S = 5.0  # Telegram clients show "typing…" for about five seconds


def file_url(base_url: str, stored: StoredFile) -> str:
    return f"{base_url}/emulator/files/{stored.file_id}"


def message_view(message: StoredMessage, base_url: str) -> JSON:
    """One message: the documented fields first, then extras (caption, keyboard, contact...)."""
    has_text = message.text is not None
    text = message.text if has_text else message.caption
    entities = message.entities if has_text else message.caption_entities
    document = message.document
    markup = message.reply_markup or {}
    return {
        "message_id": message.message_id,
        "from": message.sender,
        "text": text or "",
        "html": to_html(text, entities) if text else "",
        "buttons": message.inline_keyboard,
        "photo": file_url(base_url, message.photo) if message.photo else None,
        "document": {
            "name": document.file_name,
            "url": file_url(base_url, document),
            "mime_type": document.mime_type,
            "size": len(document.data),
        }
        if document
        else None,
        "audio": {
            "name": message.audio.file_name,
            "url": file_url(base_url, message.audio),
            "mime_type": message.audio.mime_type,
            "size": len(message.audio.data),
            "duration": message.audio.duration,
            "title": message.audio.title,
        }
        if message.audio
        else None,
        "edited": message.edit_date is not None,
        "deleted": message.deleted,
        "date": message.date,
        "caption": message.caption,
        "entities": entities,
        "keyboard": None if "inline_keyboard" in markup or not markup else markup,
        "contact": message.contact,
        "user_id": message.from_user["id"],
        "reply_to_message_id": message.reply_to.message_id if message.reply_to else None,
        "edit_date": message.edit_date,
    }


def chat_view(bot: BotState, chat: ChatState) -> JSON:
    """A chat's header and what sits under its input: the reply keyboard, "typing…"."""
    action = None
    if chat.action is not None and time.monotonic() - chat.action[1] < ACTION_SHOWN_S:
        action = chat.action[0]
    visible = [m for m in chat.messages.values() if not m.deleted]
    return {
        **chat.info,
        "bot_id": bot.id,
        "keyboard": chat.reply_keyboard,
        "action": action,
        "blocked": chat.type == "private" and chat.id in bot.blocked_by,
        "last_message_id": visible[-1].message_id if visible else None,
        "menu_button": menu_button(bot, chat),
    }


def menu_button(bot: BotState, chat: ChatState) -> JSON | None:
    """The button beside a private chat's input: the chat's own, else the bot's default (None in groups)."""
    if chat.type != "private":
        return None
    return bot.menu_buttons.get(chat.id) or bot.menu_buttons.get(None) or {"type": "default"}


def bot_view(bot: BotState) -> JSON:
    return {
        **bot.account.as_telegram(),
        "webhook": bot.webhook.url if bot.webhook else None,
        "pending_update_count": len(bot.pending),
    }
