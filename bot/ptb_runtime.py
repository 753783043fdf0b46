"""Kanbot on python-telegram-bot: handlers to add to any Application, a messenger over a PTB Bot, and the
runtime that runs them (an Application of Kanbot's own, or a host's it is embedded in).

Like the aiogram runtime it only translates: PTB's objects into the chat core's events, and the six Bot
API calls the core's replies need (``bot.core.perform``). ``build_handlers(chat)`` returns handlers a
host bot adds beside its own (``application.add_handlers(handlers, group=1)``); they take only what is
Kanbot's — its commands, its buttons, and contacts and plain text in private chats — so a host's other
commands keep working.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from collections.abc import Awaitable, Iterable
from datetime import timedelta
from typing import Any, TypeVar

from aiohttp import web
from telegram import Bot as PtbBot
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    MenuButtonWebApp,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    WebAppInfo,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, BaseHandler, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.core.chat import ChatCore
from bot.core.codec import VERSION
from bot.core.events import ButtonPress, Event, from_callback, from_message
from bot.core.perform import Failure, Messenger, TransportError, perform, press
from bot.core.views import SendAudio, SendPhoto, View
from bot.runtime import ALLOWED_UPDATES, Commands, Identity, UpdateGate
from bot.settings import MissingWebhookSecret

log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
T = TypeVar("T")


def inline_markup(view: View) -> InlineKeyboardMarkup | None:
    if not view.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    b.text,
                    callback_data=b.data,
                    url=b.url,
                    web_app=WebAppInfo(b.web_app) if b.web_app else None,
                )
                for b in row
            ]
            for row in view.buttons
        ]
    )


def markup(view: View) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    if view.buttons:
        return inline_markup(view)
    if view.menu is not None:
        keyboard = [[KeyboardButton(t) for t in row] for row in view.menu.rows]
        return ReplyKeyboardMarkup(keyboard, resize_keyboard=True, is_persistent=True)
    return ReplyKeyboardRemove() if view.remove_menu else None


def to_event(update: Update, bot_username: str | None) -> Event | None:
    """The chat core's event for a PTB update (``None`` for what Kanbot ignores or refuses)."""
    if update.callback_query is not None:
        return from_callback(update.callback_query, update.update_id)
    return from_message(update.message, update.update_id, bot_username)


def build_handlers(
    chat: ChatCore,
    *,
    commands: Iterable[str] | None = None,
    every_button: bool = False,
    every_command: bool = False,
    gate: UpdateGate | None = None,
) -> list[BaseHandler[Any, Any, Any]]:
    """Handlers for an existing Application: Kanbot's commands and buttons, private texts and contacts.

    ``commands`` narrows which commands Kanbot answers (default: all it knows), so a host's other
    commands are left to the host. In a bot of its own, ``every_button`` has Kanbot answer any press
    (forged, or from an older version) so none spins, and ``every_command`` any private command (a
    mistyped one gets the list of what Kanbot can do, as on aiogram, instead of silence). ``gate``
    bounds how many updates the handlers take at once (the webhook's too, which PTB does not queue).
    """
    gate = gate or UpdateGate(None)
    known = sorted(set(commands if commands is not None else chat.commands) | {"start"})
    own_command = filters.Regex(r"^/(" + "|".join(known) + r")(@\w+)?(\s|$)")
    not_a_command = (
        (filters.TEXT & ~filters.COMMAND) | filters.CONTACT | (~filters.TEXT & ~filters.StatusUpdate.ALL)
    )

    async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Hand a message to the chat core and carry out its reply."""
        event = to_event(update, chat.settings.bot_username)
        if event is not None:
            async with gate:
                await perform(PtbMessenger(context.bot), event, await chat.handle(event))

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Hand a button press to the chat core; the query is always answered (unless it is forged)."""
        event = to_event(update, chat.settings.bot_username)
        if isinstance(event, ButtonPress):
            async with gate:
                await press(chat, PtbMessenger(context.bot), event)

    return [
        MessageHandler(
            filters.ChatType.PRIVATE & ((filters.COMMAND if every_command else own_command) | not_a_command),
            on_message,
        ),
        MessageHandler(filters.ChatType.GROUPS & own_command, on_message),
        CallbackQueryHandler(on_button, pattern=None if every_button else rf"^{VERSION}"),
    ]


class PtbMessenger:
    """The Bot API calls Kanbot makes, over a PTB Bot; errors become ``TransportError``."""

    def __init__(self, bot: PtbBot) -> None:
        self.bot = bot

    async def send_view(self, chat_id: int, view: View) -> int:
        sent = await _guard(
            self.bot.send_message(
                chat_id,
                view.html,
                parse_mode=ParseMode.HTML,
                reply_markup=markup(view),
                link_preview_options=NO_PREVIEW,
            )
        )
        return sent.message_id

    async def edit_view(self, chat_id: int, message_id: int, view: View) -> None:
        await _guard(
            self.bot.edit_message_text(
                view.html,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=inline_markup(view),
            )
        )

    async def send_photo(self, chat_id: int, photo: SendPhoto) -> int:
        sent = await _guard(
            self.bot.send_photo(
                chat_id,
                photo.png,
                caption=photo.caption,
                parse_mode=ParseMode.HTML,
                reply_markup=inline_markup(View("", photo.buttons)),
                filename=photo.filename,
            )
        )
        return sent.message_id

    async def send_audio(self, chat_id: int, audio: SendAudio) -> int:
        if not audio.playable:
            sent = await _guard(
                self.bot.send_document(
                    chat_id,
                    audio.data,
                    caption=audio.caption,
                    parse_mode=ParseMode.HTML,
                    filename=audio.filename,
                )
            )
            return sent.message_id
        sent = await _guard(
            self.bot.send_audio(
                chat_id,
                audio.data,
                caption=audio.caption,
                parse_mode=ParseMode.HTML,
                title=audio.title,
                duration=audio.duration_s,
                filename=audio.filename,
            )
        )
        return sent.message_id

    async def answer(self, query_id: str, text: str | None, alert: bool) -> None:
        await _guard(self.bot.answer_callback_query(query_id, text=text, show_alert=alert))

    async def typing(self, chat_id: int) -> None:
        await _guard(self.bot.send_chat_action(chat_id, ChatAction.TYPING))

    async def set_commands(self, chat_id: int, commands: tuple[tuple[str, str], ...]) -> None:
        await _guard(
            self.bot.set_my_commands(
                [BotCommand(c, d) for c, d in commands], scope=BotCommandScopeChat(chat_id)
            )
        )

    async def set_menu_button(self, chat_id: int, text: str, url: str) -> None:
        button = MenuButtonWebApp(text, WebAppInfo(url))
        await _guard(self.bot.set_chat_menu_button(chat_id=chat_id, menu_button=button))


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _guard(call: Awaitable[T]) -> T:
    try:
        return await call
    except RetryAfter as error:
        raise TransportError(Failure.RETRY_AFTER, error.message, _seconds(error.retry_after)) from error
    except Forbidden as error:
        raise TransportError(Failure.BLOCKED, error.message) from error
    except BadRequest as error:
        raise TransportError(Failure.REFUSED, error.message) from error
    except (TimedOut, NetworkError) as error:
        raise TransportError(Failure.UNAVAILABLE, str(error)) from error


def build_application(
    token: str, *, api_url: str | None = None, max_updates: int | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    """A PTB Application for Kanbot alone (``kanbot run``), pointed at ``api_url`` if given, handling
    at most ``max_updates`` polled updates at once (PTB's own default: 256)."""
    # Two connections for getUpdates: on stopping, PTB's last getUpdates (marking what was fetched as
    # read) may start while the cancelled long poll still holds the one connection PTB gives it.
    builder = (
        Application.builder()
        .token(token)
        .concurrent_updates(max_updates or True)
        .get_updates_connection_pool_size(2)
    )
    if api_url:
        base = api_url.rstrip("/")
        builder = builder.base_url(base + "/bot").base_file_url(base + "/file/bot")
    return builder.build()


def webhook_secret_ok(received: str | None, expected: str) -> bool:
    """The webhook's secret header, compared in constant time on bytes (any input, never an exception);
    with no secret to compare, nothing gets in."""
    if not expected:
        return False
    # aiohttp decodes header bytes that are not UTF-8 with surrogateescape: encode them back the same way.
    return hmac.compare_digest((received or "").encode("utf-8", "surrogateescape"), expected.encode())


class PtbRuntime:
    """Kanbot on python-telegram-bot: an Application of its own (``own``), or a host's (``inside``)."""

    name = "ptb"

    def __init__(
        self,
        app: Application[Any, Any, Any, Any, Any, Any],
        *,
        hosted: bool = False,
        group: int = 0,
        max_updates: int | None = None,
    ) -> None:
        self.app = app
        self.messenger: Messenger = PtbMessenger(app.bot)
        self.updates = UpdateGate(max_updates)
        self._hosted = hosted
        self._group = group
        self._started = False
        self._polling = False

    @classmethod
    def own(cls, token: str, api_url: str | None, *, max_updates: int | None = None) -> PtbRuntime:
        """An Application that is all Kanbot's (``kanbot run``), handling at most ``max_updates`` at once."""
        # PTB 22 warns on every 429 (RetryAfter.retry_after as int is deprecated; under warnings-as-errors
        # the 429 itself became a crash); Kanbot reads either type, so it takes timedeltas in its own bot.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        return cls(
            build_application(token, api_url=api_url, max_updates=max_updates), max_updates=max_updates
        )

    @classmethod
    def inside(cls, application: Application[Any, Any, Any, Any, Any, Any], *, group: int) -> PtbRuntime:
        """Kanbot in a host's Application (initialized: from its ``post_init``), its handlers in ``group``."""
        return cls(application, hosted=True, group=group)

    async def _start(self) -> None:
        if not self._started and not self._hosted:
            await self.app.initialize()
            await self.app.start()
            self._started = True

    async def identity(self) -> Identity:
        await self._start()
        me = self.app.bot
        return Identity(me.id, me.username or ("bot" if self._hosted else "kanbot"))

    def mount(self, chat: ChatCore) -> None:
        if self._hosted:  # only what is Kanbot's: the host's other commands and buttons stay the host's
            self.app.add_handlers(build_handlers(chat, gate=self.updates), group=self._group)
            return
        whole_bot = build_handlers(
            chat, every_button=True, every_command=True, gate=self.updates
        )  # all Kanbot's
        self.app.add_handlers(whole_bot, group=self._group)

    def webhook_route(self, app: web.Application, path: str, secret: str) -> None:
        if not secret:
            raise MissingWebhookSecret()

        async def receive(request: web.Request) -> web.Response:
            """An update from Telegram: handled before the 200, so a crash makes Telegram redeliver it."""
            if not webhook_secret_ok(request.headers.get("X-Telegram-Bot-Api-Secret-Token"), secret):
                return web.Response(status=401, text="Unauthorized")
            try:
                data = json.loads(await request.read())
                if not isinstance(data, dict):  # de_json takes null for no update, and a list breaks it
                    raise TypeError("not a JSON object")
                update = Update.de_json(data, self.app.bot)
            except (ValueError, TypeError, KeyError, AttributeError):  # a 400, never a 500
                return web.Response(status=400, text="Bad Request")
            await self.app.process_update(update)
            return web.Response(text="ok")

        app.router.add_post(path, receive)

    async def start_polling(self) -> None:
        await self._start()
        await self.app.bot.delete_webhook(drop_pending_updates=False)
        assert self.app.updater is not None
        await self.app.updater.start_polling(timeout=10, allowed_updates=ALLOWED_UPDATES)
        self._polling = True

    async def stop_polling(self) -> None:
        if self._polling and self.app.updater is not None:
            await self.app.updater.stop()
            self._polling = False

    async def set_webhook(self, url: str, secret: str) -> None:
        await self._start()
        await self.app.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    async def delete_webhook(self) -> None:
        await self.app.bot.delete_webhook(drop_pending_updates=False)

    async def register_commands(self, by_locale: dict[str, Commands], per_chat: dict[int, Commands]) -> None:
        for locale, commands in by_locale.items():
            await self.app.bot.set_my_commands(
                [BotCommand(c, d) for c, d in commands],
                scope=BotCommandScopeDefault(),
                language_code=None if locale == "en" else locale,
            )
        for chat_id, commands in per_chat.items():
            await self.app.bot.set_my_commands(
                [BotCommand(c, d) for c, d in commands], scope=BotCommandScopeChat(chat_id)
            )

    async def close(self) -> None:
        if self._started:
            await self.stop_polling()
            await self.app.stop()
            await self.app.shutdown()
