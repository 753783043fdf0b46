"""Kanbot on aiogram 3: a Router to mount into any Dispatcher, and the outbox's transport.

Everything here only translates: aiogram objects into the chat core's events, the core's actions into
Bot API calls. ``build_router(chat)`` returns a new Router each time, so a host bot can mount Kanbot
beside its own handlers (see docs/embedding.md).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.enums import ChatAction, ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
    WebAppInfo,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler

from bot.core.chat import ChatCore
from bot.core.events import ButtonPress, Command, Event, Other, Sender, SharedContact, Text, parse_command
from bot.core.views import Answer, Edit, Reply, Send, SendPhoto, SetCommands, Typing, View
from bot.delivery import Failure, TransportError

log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def inline_markup(view: View) -> InlineKeyboardMarkup | None:
    if not view.buttons:
        return None
    rows = [
        [
            InlineKeyboardButton(
                text=b.text,
                callback_data=b.data,
                url=b.url,
                web_app=WebAppInfo(url=b.web_app) if b.web_app else None,
            )
            for b in row
        ]
        for row in view.buttons
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def markup(view: View) -> Markup:
    if view.buttons:
        return inline_markup(view)
    if view.menu is not None:
        return ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text=t) for t in row] for row in view.menu.rows],
            resize_keyboard=True,
            is_persistent=True,
        )
    return ReplyKeyboardRemove() if view.remove_menu else None


def _sender(user: User) -> Sender:
    return Sender(
        id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )


def message_event(message: Message, update_id: int, bot_username: str | None) -> Event | None:
    if message.from_user is None:
        return None
    common: dict[str, Any] = {
        "update_id": update_id,
        "sender": _sender(message.from_user),
        "chat_id": message.chat.id,
        "chat_type": message.chat.type,
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


def callback_event(query: CallbackQuery, update_id: int) -> ButtonPress:
    chat = query.message.chat if query.message is not None else None
    return ButtonPress(
        update_id=update_id,
        sender=_sender(query.from_user),
        chat_id=chat.id if chat else query.from_user.id,
        chat_type=chat.type if chat else "private",
        query_id=query.id,
        data=query.data or "",
        message_id=query.message.message_id if query.message is not None else None,
    )


def build_router(chat: ChatCore, *, name: str = "kanbot") -> Router:
    """A fresh aiogram Router with Kanbot's handlers: every message and button press goes to the chat core."""
    router = Router(name=name)

    @router.message(F.chat.type == "private")
    async def on_private(message: Message, bot: Bot, event_update: Update) -> None:
        """Hand a private message to the chat core and carry out its reply."""
        event = message_event(message, event_update.update_id, chat.settings.bot_username)
        if event is not None:
            await perform(bot, event, await chat.handle(event))

    @router.message(F.chat.type.in_({"group", "supergroup"}), F.text.startswith("/"))
    async def on_group_command(message: Message, bot: Bot, event_update: Update) -> None:
        """In a group, say once that Kanbot works in private chat."""
        event = message_event(message, event_update.update_id, chat.settings.bot_username)
        if event is not None:
            await perform(bot, event, await chat.handle(event))

    @router.callback_query()
    async def on_button(query: CallbackQuery, bot: Bot, event_update: Update) -> None:
        """Hand a button press to the chat core; the query is always answered."""
        event = callback_event(query, event_update.update_id)
        try:
            reply = await chat.handle(event)
        except Exception:
            log.exception("update %s: button press failed", event.update_id)
            reply = Reply().answer("⚠️ Sorry, something went wrong. Please try again.", alert=True)
        await perform(bot, event, reply)

    return router


async def perform(bot: Bot, event: Event, reply: Reply) -> None:
    """Carry out the core's reply: answers first (so the button stops spinning), then messages in order."""
    if reply.duplicate:
        return
    answers = [a for a in reply.actions if isinstance(a, Answer)]
    if isinstance(event, ButtonPress):
        answer = answers[0] if answers else Answer()
        await _quietly(
            bot.answer_callback_query(
                event.query_id, text=(answer.text or None) and answer.text[:200], show_alert=answer.alert
            ),
            "answer",
        )
    for action in reply.actions:
        try:
            await _perform_one(bot, event, action)
        except TelegramRetryAfter as error:
            await asyncio.sleep(min(error.retry_after, 10))
            await _quietly(_perform_one(bot, event, action), "retry")
        except TelegramForbiddenError:
            log.info("user %s blocked the bot", event.sender.id)
            return
        except TelegramBadRequest as error:
            log.error(
                "update %s: Telegram refused %s: %s", event.update_id, type(action).__name__, error.message
            )


async def _perform_one(bot: Bot, event: Event, action: object) -> None:
    if isinstance(action, Send):
        await send_view(bot, action.chat_id or event.chat_id, action.view)
    elif isinstance(action, Edit):
        try:
            await bot.edit_message_text(
                text=action.view.html,
                chat_id=event.chat_id,
                message_id=action.message_id,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=inline_markup(action.view),
            )
        except TelegramBadRequest as error:
            if "not modified" in error.message:
                return
            if "to edit not found" in error.message or "can't be edited" in error.message:
                await send_view(bot, event.chat_id, action.view)
                return
            raise
    elif isinstance(action, SendPhoto):
        await send_photo(bot, action.chat_id or event.chat_id, action)
    elif isinstance(action, Typing):
        await bot.send_chat_action(event.chat_id, ChatAction.TYPING)
    elif isinstance(action, SetCommands):
        await bot.set_my_commands(
            [BotCommand(command=c, description=d) for c, d in action.commands],
            scope=BotCommandScopeChat(chat_id=event.chat_id),
        )


async def send_view(bot: Bot, chat_id: int, view: View) -> int:
    sent = await bot.send_message(
        chat_id,
        view.html,
        parse_mode=ParseMode.HTML,
        reply_markup=markup(view),
        link_preview_options=NO_PREVIEW,
    )
    return sent.message_id


async def send_photo(bot: Bot, chat_id: int, photo: SendPhoto) -> int:
    inline = markup(View("", photo.buttons)) if photo.buttons else None
    sent = await bot.send_photo(
        chat_id,
        BufferedInputFile(photo.png, photo.filename),
        caption=photo.caption,
        parse_mode=ParseMode.HTML,
        reply_markup=inline,
    )
    return sent.message_id


async def _quietly(call: object, what: str) -> None:
    try:
        await call  # type: ignore[misc]
    except (TelegramBadRequest, TelegramForbiddenError, TelegramNetworkError, TelegramServerError) as error:
        log.info("%s failed: %s", what, error)


class AiogramTransport:
    """The outbox's way out, over an aiogram Bot; Telegram's errors become ``TransportError``."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_view(self, chat_id: int, view: View) -> int:
        return await self._guard(send_view(self.bot, chat_id, view))

    async def send_photo(self, chat_id: int, photo: SendPhoto) -> int:
        return await self._guard(send_photo(self.bot, chat_id, photo))

    async def _guard(self, call: object) -> int:
        try:
            return await call  # type: ignore[misc,no-any-return]
        except TelegramRetryAfter as error:
            raise TransportError(Failure.RETRY_AFTER, error.message, float(error.retry_after)) from error
        except TelegramForbiddenError as error:
            raise TransportError(Failure.BLOCKED, error.message) from error
        except TelegramBadRequest as error:
            raise TransportError(Failure.REFUSED, error.message) from error
        except (TimeoutError, TelegramServerError, TelegramNetworkError) as error:
            raise TransportError(Failure.UNAVAILABLE, str(error)) from error


class _Webhook(SimpleRequestHandler):
    """aiogram's webhook handler, with the secret compared in constant time on bytes (any input)."""

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        if not self.secret_token:
            return True
        return hmac.compare_digest(telegram_secret_token.encode(), self.secret_token.encode())


def webhook_handler(dispatcher: Dispatcher, bot: Bot, secret: str | None) -> SimpleRequestHandler:
    """The Telegram webhook: a wrong or missing secret is 401; an update is handled before the 200,
    so Telegram redelivers what a crash interrupted (and the handled-updates ledger makes that harmless)."""
    return _Webhook(dispatcher=dispatcher, bot=bot, secret_token=secret, handle_in_background=False)
