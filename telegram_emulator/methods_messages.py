"""sendMessage, the editMessage* methods, deleteMessage(s) and sendChatAction."""

from __future__ import annotations

import time
from typing import Any

from telegram_emulator import errors
from telegram_emulator.call import Call, Handler
from telegram_emulator.errors import ApiError, bad_request
from telegram_emulator.keyboards import validate_markup
from telegram_emulator.models import JSON, StoredMessage, now_ts
from telegram_emulator.state import ChatState

CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}


def remember_keyboard(chat: ChatState, markup: JSON | None) -> None:
    """The user keeps seeing the last reply keyboard a bot sent, until a bot removes it."""
    if markup and "keyboard" in markup:
        chat.reply_keyboard = markup
    elif markup and markup.get("remove_keyboard"):
        chat.reply_keyboard = None


def bot_message(call: Call, chat: ChatState, **fields: Any) -> StoredMessage:
    """Store a message from the bot and show it as Telegram returns it."""
    markup = fields.get("reply_markup")
    remember_keyboard(chat, markup)
    return chat.add(sender="bot", from_user=call.bot.account.as_user(), **fields)


async def send_message(call: Call) -> JSON:
    chat = call.target()
    text, entities = call.text()
    markup = validate_markup(call.params.raw("reply_markup"), chat_type=chat.type)
    reply_to = call.reply_to(chat)
    call.rate_limit(chat)
    message = bot_message(call, chat, text=text, entities=entities, reply_markup=markup, reply_to=reply_to)
    return message.as_telegram()


def message_to_edit(call: Call) -> tuple[ChatState, StoredMessage]:
    if call.params.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")  # inline mode is not emulated
    chat = call.target()
    message_id = call.params.get_int("message_id", required="message identifier is not specified")
    message = chat.get(message_id)
    if message is None:
        raise ApiError(errors.EDIT_NOT_FOUND)
    if message.sender != "bot":
        raise ApiError(errors.CANT_BE_EDITED)
    return chat, message


def inline_markup(call: Call, chat: ChatState) -> JSON | None:
    return validate_markup(call.params.raw("reply_markup"), chat_type=chat.type, inline_only=True)


def current_inline(message: StoredMessage) -> JSON | None:
    markup = message.reply_markup
    return markup if markup and "inline_keyboard" in markup else None


def apply_edit(call: Call, chat: ChatState, message: StoredMessage, changes: dict[str, Any]) -> JSON:
    """Refuse an edit that changes nothing, else count it against the limits and apply it."""
    before = {key: getattr(message, key) for key in changes if key != "reply_markup"}
    before["reply_markup"] = current_inline(message)
    if before == {**before, **changes}:
        raise ApiError(errors.NOT_MODIFIED)
    call.rate_limit(chat)
    if changes.get("reply_markup") is None and before["reply_markup"] is None:
        changes.pop("reply_markup", None)  # keep a reply keyboard the message was sent with
    for key, value in changes.items():
        setattr(message, key, value)
    message.edit_date = now_ts()
    return message.as_telegram()


async def edit_message_text(call: Call) -> JSON:
    chat, message = message_to_edit(call)
    text, entities = call.text()
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    markup = inline_markup(call, chat)
    return apply_edit(call, chat, message, {"text": text, "entities": entities, "reply_markup": markup})


async def edit_message_caption(call: Call) -> JSON:
    chat, message = message_to_edit(call)
    if message.photo is None and message.document is None and message.audio is None:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = call.caption()
    markup = inline_markup(call, chat)
    changes = {"caption": caption, "caption_entities": entities, "reply_markup": markup}
    return apply_edit(call, chat, message, changes)


async def edit_message_reply_markup(call: Call) -> JSON:
    chat, message = message_to_edit(call)
    return apply_edit(call, chat, message, {"reply_markup": inline_markup(call, chat)})


async def delete_message(call: Call) -> bool:
    chat = call.chat()
    message = chat.get(call.params.get_int("message_id", required="message identifier is not specified"))
    if message is None:
        raise ApiError(errors.DELETE_NOT_FOUND)
    message.deleted = True
    return True


async def delete_messages(call: Call) -> bool:
    chat = call.chat()
    ids = call.params.get_json("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must be a list of 1-100 message identifiers")
    for message_id in ids:
        if (message := chat.get(int(message_id))) is not None:
            message.deleted = True
    return True


async def send_chat_action(call: Call) -> bool:
    chat = call.target()
    action = call.params.get_str("action", required="parameter action is required")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat.action = (action, time.monotonic())
    return True


METHODS: dict[str, Handler] = {
    "sendmessage": send_message,
    "editmessagetext": edit_message_text,
    "editmessagecaption": edit_message_caption,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "deletemessages": delete_messages,
    "sendchataction": send_chat_action,
}
