"""Control API for what users do: send messages and contacts, press inline buttons."""

from __future__ import annotations

import secrets
import time
from typing import Any

from aiohttp import web

from telegram_emulator.call import MAX_TEXT
from telegram_emulator.control_base import ControlError, bot_of, int_field, json_body, str_field, world_of
from telegram_emulator.control_users import user_of
from telegram_emulator.entities import detect_entities
from telegram_emulator.models import JSON, CallbackQuery, StoredMessage
from telegram_emulator.state import BotState, ChatState

routes = web.RouteTableDef()


def _chat_for(request: web.Request, bot: BotState, body: dict[str, Any], user_id: int) -> ChatState:
    world = world_of(request)
    chat_id = int_field(body, "chat_id", required=False) or user_id
    chat = world.chat(bot, chat_id)
    if chat is None:
        raise ControlError(404, f"no chat {chat_id}: create the group with POST /emulator/chats first")
    if chat.type == "private" and chat_id != user_id:
        raise ControlError(400, "a user can only write in their own private chat or in a group")
    if chat.type == "private" and user_id in bot.blocked_by:
        raise ControlError(409, f"user {user_id} has blocked the bot; unblock them first")
    return chat


def _contact(body: dict[str, Any], user: JSON) -> JSON | None:
    contact = body.get("contact")
    if contact is None:
        return None
    if not isinstance(contact, dict) or not isinstance(contact.get("phone_number"), str):
        raise ControlError(400, '"contact" must be an object with a "phone_number" string')
    shared: JSON = {"phone_number": contact["phone_number"]}
    shared["first_name"] = contact.get("first_name") or user["first_name"]
    if contact.get("last_name"):
        shared["last_name"] = contact["last_name"]
    shared["user_id"] = int(contact.get("user_id") or user["id"])
    return shared


def _reaches_bot(bot: BotState, chat: ChatState, message: StoredMessage) -> bool:
    """In groups a bot in privacy mode gets only commands, replies to it and mentions of it."""
    if chat.type == "private" or bot.account.can_read_all_group_messages:
        return True
    if message.reply_to is not None and message.reply_to.sender == "bot":
        return True
    text, username = message.text or "", bot.account.username.lower()
    for entity in message.entities:
        word = text[entity["offset"] : entity["offset"] + entity["length"]].lower()
        if entity["type"] == "bot_command" and ("@" not in word or word.endswith(f"@{username}")):
            return True
        if entity["type"] == "mention" and word == f"@{username}":
            return True
    return False


@routes.post("/emulator/messages")
async def post_message(request: web.Request) -> web.Response:
    """A user sends a text (commands get bot_command entities) or shares a contact."""
    body = await json_body(request)
    world, bot = world_of(request), await bot_of(request, body)
    user = user_of(world, int_field(body, "user_id"))
    chat = _chat_for(request, bot, body, user.id)
    text, contact = str_field(body, "text"), _contact(body, user.as_telegram())
    if (text is None) == (contact is None):
        raise ControlError(400, 'give either "text" or "contact"')
    if text is not None and not 1 <= len(text.strip()) <= MAX_TEXT:
        raise ControlError(400, f"a message text has 1-{MAX_TEXT} characters")
    reply_to = chat.get(int_field(body, "reply_to_message_id", required=False))
    fields: dict[str, Any] = {"contact": contact, "reply_to": reply_to}
    if text is not None:
        fields |= {"text": text.strip(), "entities": detect_entities(text.strip())}
    message = chat.add(sender="user", from_user=user.as_telegram(), **fields)
    if chat.reply_keyboard and chat.reply_keyboard.get("one_time_keyboard"):
        chat.reply_keyboard = None
    update = None
    if _reaches_bot(bot, chat, message):
        update = world.enqueue(bot, "message", message.as_telegram())
        world.limiter.credit(bot.id, chat.id)
    update_id = update.update_id if update else None
    return web.json_response({"update_id": update_id, "message_id": message.message_id, "chat_id": chat.id})


def _button_data(message: StoredMessage, text: str) -> str:
    buttons = [button for row in message.inline_keyboard for button in row]
    for button in buttons:
        if button["text"] != text:
            continue
        if "callback_data" in button:
            return str(button["callback_data"])
        kind = next(key for key in button if key != "text")
        raise ControlError(400, f"{text!r} is a {kind} button: it sends no callback query", button=button)
    names = [button["text"] for button in buttons]
    raise ControlError(404, f"no button {text!r} on message {message.message_id}", buttons=names)


@routes.post("/emulator/clicks")
async def click(request: web.Request) -> web.Response:
    """A user presses an inline button (by its text, or sends any callback_data, as a modified client may)."""
    body = await json_body(request)
    world, bot = world_of(request), await bot_of(request, body)
    user = user_of(world, int_field(body, "user_id"))
    chat = _chat_for(request, bot, body, user.id)
    message_id = int_field(body, "message_id")
    message = chat.get(message_id)
    if message is None or message.sender != "bot":
        raise ControlError(404, f"no message {message_id} from the bot in chat {chat.id}")
    button, data = str_field(body, "button"), str_field(body, "callback_data")
    if (button is None) == (data is None):
        raise ControlError(400, 'give either "button" (its exact text) or "callback_data"')
    data = _button_data(message, button) if button is not None else data
    assert data is not None
    query = CallbackQuery(str(secrets.randbits(63)), user, message, data, time.monotonic())
    bot.callback_queries[query.id] = query
    update = world.enqueue(bot, "callback_query", query.as_telegram())
    if update is None:  # the bot's allowed_updates leave callback queries out: nothing will answer it
        del bot.callback_queries[query.id]
    world.limiter.credit(bot.id, chat.id)
    update_id = update.update_id if update else None
    return web.json_response({"update_id": update_id, "callback_query_id": query.id})
