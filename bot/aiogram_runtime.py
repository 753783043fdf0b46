"""Kanbot on aiogram 3: a Router to mount into any Dispatcher, a messenger over an aiogram Bot, and the
runtime that runs them (a bot of Kanbot's own, or a host's bot it is embedded in).

It only translates: aiogram's objects into the chat core's events, and the six Bot API calls the core's
replies need (see ``bot.core.perform``). ``build_router(chat)`` returns a new Router each time, so a host
bot can mount Kanbot beside its own handlers (see docs/embedding.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ChatAction, ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import Command as CommandFilter
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    MenuButtonWebApp,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    WebAppInfo,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.core.chat import ChatCore
from bot.core.codec import VERSION
from bot.core.events import ButtonPress, Event, from_callback, from_message
from bot.core.perform import Failure, Messenger, TransportError, perform, press
from bot.core.views import SendAudio, SendPhoto, View
from bot.runtime import ALLOWED_UPDATES, Commands, Identity, UpdateGate
from bot.settings import MissingWebhookSecret

log = logging.getLogger(__name__)
HANDLERS_GRACE_S = 7.0  # at shutdown, for handlers already running (the process must exit within 10 s)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
T = TypeVar("T")


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


def markup(view: View) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    if view.buttons:
        return inline_markup(view)
    if view.menu is not None:
        keyboard = [[KeyboardButton(text=t) for t in row] for row in view.menu.rows]
        return ReplyKeyboardMarkup(keyboard=keyboard, resize_keyboard=True, is_persistent=True)
    return ReplyKeyboardRemove() if view.remove_menu else None


def message_event(message: Message, update_id: int, bot_username: str | None) -> Event | None:
    return from_message(message, update_id, bot_username)


def callback_event(query: CallbackQuery, update_id: int) -> ButtonPress | None:
    return from_callback(query, update_id)


def build_router(chat: ChatCore, *, name: str = "kanbot", every_button: bool = False) -> Router:
    """A fresh aiogram Router: private messages and Kanbot's buttons go to the chat core.

    Mount it after a host bot's own routers: their commands are handled there first. In a bot of its
    own, ``every_button`` has Kanbot answer any press (forged, or from an older version) so none spins.
    """
    router = Router(name=name)
    ours = () if every_button else (F.data.startswith(VERSION),)

    @router.message(F.chat.type == "private")
    async def on_private(message: Message, bot: Bot, event_update: Update) -> None:
        """Hand a private message to the chat core and carry out its reply."""
        event = message_event(message, event_update.update_id, chat.settings.bot_username)
        if event is not None:
            await perform(AiogramMessenger(bot), event, await chat.handle(event))

    @router.message(F.chat.type.in_({"group", "supergroup"}), CommandFilter(*chat.commands))
    async def on_group_command(message: Message, bot: Bot, event_update: Update) -> None:
        """In a group, say once that Kanbot works in private chat."""
        event = message_event(message, event_update.update_id, chat.settings.bot_username)
        if event is not None:
            await perform(AiogramMessenger(bot), event, await chat.handle(event))

    @router.callback_query(*ours)
    async def on_button(query: CallbackQuery, bot: Bot, event_update: Update) -> None:
        """Hand a button press to the chat core; the query is always answered (unless it is forged)."""
        event = callback_event(query, event_update.update_id)
        if event is not None:
            await press(chat, AiogramMessenger(bot), event)

    return router


class AiogramMessenger:
    """The Bot API calls Kanbot makes, over an aiogram Bot; errors become ``TransportError``."""

    def __init__(self, bot: Bot) -> None:
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
                text=view.html,
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
                BufferedInputFile(photo.png, photo.filename),
                caption=photo.caption,
                parse_mode=ParseMode.HTML,
                reply_markup=inline_markup(View("", photo.buttons)),
            )
        )
        return sent.message_id

    async def send_audio(self, chat_id: int, audio: SendAudio) -> int:
        if not audio.playable:
            document = BufferedInputFile(audio.data, audio.filename)
            sent = await _guard(
                self.bot.send_document(chat_id, document, caption=audio.caption, parse_mode=ParseMode.HTML)
            )
            return sent.message_id
        sent = await _guard(
            self.bot.send_audio(
                chat_id,
                BufferedInputFile(audio.data, audio.filename),
                caption=audio.caption,
                parse_mode=ParseMode.HTML,
                title=audio.title,
                duration=audio.duration_s,
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
                [BotCommand(command=c, description=d) for c, d in commands],
                scope=BotCommandScopeChat(chat_id=chat_id),
            )
        )

    async def set_menu_button(self, chat_id: int, text: str, url: str) -> None:
        button = MenuButtonWebApp(text=text, web_app=WebAppInfo(url=url))
        await _guard(self.bot.set_chat_menu_button(chat_id=chat_id, menu_button=button))


AiogramTransport = AiogramMessenger  # the outbox delivery's name for it


async def _guard(call: Awaitable[T]) -> T:
    try:
        return await call
    except TelegramRetryAfter as error:
        raise TransportError(Failure.RETRY_AFTER, error.message, float(error.retry_after)) from error
    except TelegramForbiddenError as error:
        raise TransportError(Failure.BLOCKED, error.message) from error
    except TelegramBadRequest as error:
        raise TransportError(Failure.REFUSED, error.message) from error
    except (TimeoutError, TelegramServerError, TelegramNetworkError) as error:
        raise TransportError(Failure.UNAVAILABLE, str(error)) from error


class _Webhook(SimpleRequestHandler):
    """aiogram's webhook handler, with the secret compared in constant time on bytes (any input); with
    no secret to compare, nothing gets in."""

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        if not self.secret_token:
            return False
        # aiohttp decodes header bytes that are not UTF-8 with surrogateescape; encoding them back the
        # same way gives the bytes as sent (a plain .encode() raised, and the request became a 500).
        sent = telegram_secret_token.encode("utf-8", "surrogateescape")
        return hmac.compare_digest(sent, self.secret_token.encode())

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        """An update is read before it is handled: a body that is no update is a 400, not a 500."""
        try:
            update = Update.model_validate(
                await request.json(loads=bot.session.json_loads), context={"bot": bot}
            )
        except ValueError:  # not JSON, or not an update (pydantic's ValidationError is a ValueError)
            log.warning("webhook: refused a request that is not a Telegram update")
            return web.Response(status=400, text="Bad Request")
        result: TelegramMethod[Any] | None = await self.dispatcher.feed_webhook_update(
            bot, update, **self.data
        )
        return web.Response(body=self._build_response_writer(bot=bot, result=result))


def webhook_handler(dispatcher: Dispatcher, bot: Bot, secret: str) -> SimpleRequestHandler:
    """The Telegram webhook: a wrong or missing secret is 401; an update is handled before the 200,
    so Telegram redelivers what a crash interrupted (and the handled-updates ledger makes that harmless).

    Without a secret anyone could post updates as any user: ``MissingWebhookSecret``.
    """
    if not secret:
        raise MissingWebhookSecret()
    return _Webhook(dispatcher=dispatcher, bot=bot, secret_token=secret, handle_in_background=False)


def aiogram_bot(token: str, api_url: str | None) -> Bot:
    """An aiogram Bot, talking to ``api_url`` (a local Bot API server, the emulator) when given."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else AiohttpSession()
    return Bot(token, session=session)


class AiogramRuntime:
    """Kanbot on aiogram: its own bot (``own``), or a host's Dispatcher and Bot (``inside``)."""

    name = "aiogram"

    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher | None = None,
        *,
        hosted: bool = False,
        max_updates: int | None = None,
    ) -> None:
        self.bot = bot
        self.dispatcher = dispatcher or Dispatcher()
        self.messenger: Messenger = AiogramMessenger(bot)
        self.updates = UpdateGate(max_updates)
        self._hosted = hosted
        self._polling: asyncio.Task[None] | None = None
        self._handling: set[asyncio.Task[Any]] = set()

    @classmethod
    def own(cls, token: str, api_url: str | None, *, max_updates: int | None = None) -> AiogramRuntime:
        """A bot that is all Kanbot's (``kanbot run``), handling at most ``max_updates`` at once."""
        return cls(aiogram_bot(token, api_url), max_updates=max_updates)

    @classmethod
    def inside(cls, dispatcher: Dispatcher, bot: Bot) -> AiogramRuntime:
        """Kanbot in a host's bot: the host keeps its other handlers, its polling and its session."""
        return cls(bot, dispatcher, hosted=True)

    async def identity(self) -> Identity:
        me = await self.bot.get_me()
        return Identity(me.id, me.username or ("bot" if self._hosted else "kanbot"))

    def mount(self, chat: ChatCore) -> None:
        if self._hosted:  # after the host's routers; other buttons are left to the host
            self.dispatcher.include_router(build_router(chat))
            return
        self.dispatcher.include_router(build_router(chat, every_button=True))  # the bot is all Kanbot's
        self.dispatcher.update.outer_middleware(self._track)

    async def _track(
        self, handler: Callable[[Any, dict[str, Any]], Awaitable[Any]], update: Any, data: dict[str, Any]
    ) -> Any:
        """Note the task handling each update, so that a shutdown can wait for it; past the limit of
        updates in flight, wait for a slot (the webhook's requests, and polled updates)."""
        task = asyncio.current_task()
        if task is not None:
            self._handling.add(task)
        try:
            async with self.updates:
                return await handler(update, data)
        finally:
            self._handling.discard(task)

    def webhook_route(self, app: web.Application, path: str, secret: str) -> None:
        webhook_handler(self.dispatcher, self.bot, secret).register(app, path=path)

    async def start_polling(self) -> None:
        await self.bot.delete_webhook(drop_pending_updates=False)
        self._polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot,
                handle_signals=False,
                close_bot_session=False,
                polling_timeout=10,
                allowed_updates=ALLOWED_UPDATES,
                # no more updates are read while the limit is reached: they wait at Telegram's
                tasks_concurrency_limit=self.updates.limit,
            ),
            name="polling",
        )

    async def stop_polling(self) -> None:
        """Take no more updates, then let the handlers already running finish.

        aiogram handles polled updates in tasks of their own and confirms them to Telegram with the
        next getUpdates, before they are done: a handler cut short here would lose its update.
        """
        if self._polling is not None:
            with contextlib.suppress(RuntimeError):
                await self.dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._polling, timeout=8)
        if self._handling:
            _, late = await asyncio.wait(set(self._handling), timeout=HANDLERS_GRACE_S)
            if late:
                log.warning(
                    "%d update(s) still being handled after %.0f s; stopping anyway",
                    len(late),
                    HANDLERS_GRACE_S,
                )

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    async def delete_webhook(self) -> None:
        await self.bot.delete_webhook(drop_pending_updates=False)

    async def register_commands(self, by_locale: dict[str, Commands], per_chat: dict[int, Commands]) -> None:
        for locale, commands in by_locale.items():
            await self.bot.set_my_commands(
                [BotCommand(command=c, description=d) for c, d in commands],
                scope=BotCommandScopeDefault(),
                language_code=None if locale == "en" else locale,
            )
        for chat_id, commands in per_chat.items():
            await self.bot.set_my_commands(
                [BotCommand(command=c, description=d) for c, d in commands],
                scope=BotCommandScopeChat(chat_id=chat_id),
            )

    async def close(self) -> None:
        if not self._hosted:
            await self.bot.session.close()
