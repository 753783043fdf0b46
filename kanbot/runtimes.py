"""The two chat runtimes behind one shape, so the process does not care which one talks to Telegram.

Each runtime imports its framework when it is built, never at module import: aiogram alone costs
~120 MiB resident (pydantic models for every Bot API type, built at import), which a process running
python-telegram-bot should not pay, and the reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from bot.core.chat import ChatCore
from bot.core.perform import Messenger
from bot.settings import MissingWebhookSecret

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
HANDLERS_GRACE_S = 7.0  # at shutdown, for handlers already running (the process must exit within 10 s)
Commands = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Identity:
    id: int
    username: str


class Runtime(Protocol):
    name: str
    messenger: Messenger

    async def identity(self) -> Identity: ...

    def mount(self, chat: ChatCore) -> None: ...

    def webhook_route(self, app: web.Application, path: str, secret: str) -> None:
        """Serve Telegram's webhook at ``path``; without a secret, ``MissingWebhookSecret``."""

    async def start_polling(self) -> None: ...

    async def stop_polling(self) -> None: ...

    async def set_webhook(self, url: str, secret: str) -> None: ...

    async def delete_webhook(self) -> None: ...

    async def register_commands(
        self, by_locale: dict[str, Commands], per_chat: dict[int, Commands]
    ) -> None: ...

    async def close(self) -> None: ...


class AiogramRuntime:
    name = "aiogram"

    def __init__(self, token: str, api_url: str | None) -> None:
        from aiogram import Dispatcher

        from bot.aiogram_runtime import AiogramMessenger

        self.bot = aiogram_bot(token, api_url)
        self.dispatcher = Dispatcher()
        self.messenger: Messenger = AiogramMessenger(self.bot)
        self._polling: asyncio.Task[None] | None = None
        self._handling: set[asyncio.Task[Any]] = set()

    async def identity(self) -> Identity:
        me = await self.bot.get_me()
        return Identity(me.id, me.username or "kanbot")

    def mount(self, chat: ChatCore) -> None:
        from bot.aiogram_runtime import build_router

        self.dispatcher.include_router(build_router(chat, every_button=True))  # the bot is all Kanbot's
        self.dispatcher.update.outer_middleware(self._track)

    async def _track(
        self, handler: Callable[[Any, dict[str, Any]], Awaitable[Any]], update: Any, data: dict[str, Any]
    ) -> Any:
        """Note the task handling each update, so that a shutdown can wait for it."""
        task = asyncio.current_task()
        if task is not None:
            self._handling.add(task)
        try:
            return await handler(update, data)
        finally:
            self._handling.discard(task)

    def webhook_route(self, app: web.Application, path: str, secret: str) -> None:
        from bot.aiogram_runtime import webhook_handler

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
        from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

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
        await self.bot.session.close()


class PtbRuntime:
    name = "ptb"

    def __init__(self, token: str, api_url: str | None) -> None:
        from telegram.ext import Application

        from bot.ptb_runtime import PtbMessenger, build_application

        # PTB 22 warns on every 429 (RetryAfter.retry_after as int is deprecated; under warnings-as-errors
        # the 429 itself became a crash); Kanbot reads either type, so it takes timedeltas in its own bot.
        os.environ.setdefault("PTB_TIMEDELTA", "true")

        self.app: Application[Any, Any, Any, Any, Any, Any] = build_application(token, api_url=api_url)
        self.messenger: Messenger = PtbMessenger(self.app.bot)
        self._started = False
        self._polling = False

    async def _start(self) -> None:
        if not self._started:
            await self.app.initialize()
            await self.app.start()
            self._started = True

    async def identity(self) -> Identity:
        await self._start()
        me = self.app.bot
        return Identity(me.id, me.username or "kanbot")

    def mount(self, chat: ChatCore) -> None:
        from bot.ptb_runtime import build_handlers

        whole_bot = build_handlers(chat, every_button=True, every_command=True)  # the bot is all Kanbot's
        self.app.add_handlers(whole_bot, group=0)

    def webhook_route(self, app: web.Application, path: str, secret: str) -> None:
        from telegram import Update

        from bot.ptb_runtime import webhook_secret_ok

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
        from telegram import BotCommand as PtbCommand
        from telegram import BotCommandScopeChat as PtbChatScope
        from telegram import BotCommandScopeDefault as PtbDefaultScope

        for locale, commands in by_locale.items():
            await self.app.bot.set_my_commands(
                [PtbCommand(c, d) for c, d in commands],
                scope=PtbDefaultScope(),
                language_code=None if locale == "en" else locale,
            )
        for chat_id, commands in per_chat.items():
            await self.app.bot.set_my_commands(
                [PtbCommand(c, d) for c, d in commands], scope=PtbChatScope(chat_id)
            )

    async def close(self) -> None:
        if self._started:
            await self.stop_polling()
            await self.app.stop()
            await self.app.shutdown()


def aiogram_bot(token: str, api_url: str | None) -> Bot:
    """An aiogram Bot, talking to ``api_url`` (a local Bot API server, the emulator) when given."""
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else AiohttpSession()
    return Bot(token, session=session)


def make_runtime(name: str, token: str, api_url: str | None) -> Runtime:
    """The runtime called ``name`` ("ptb", else aiogram); only its framework gets imported."""
    if name == "ptb":
        return PtbRuntime(token, api_url)
    return AiogramRuntime(token, api_url)
