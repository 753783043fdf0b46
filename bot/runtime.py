"""What the process asks of a chat runtime (aiogram or python-telegram-bot), whichever one it runs on.

Each runtime lives in one module, ``bot.aiogram_runtime`` or ``bot.ptb_runtime``, which imports its
framework at the top: import only the one you run on (aiogram alone costs ~120 MiB resident).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from aiohttp import web

from bot.core.chat import ChatCore
from bot.core.perform import Messenger

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
Commands = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Identity:
    """The bot as Telegram knows it."""

    id: int
    username: str


class UpdateGate:
    """At most ``limit`` updates handled at once (``None``: as many as the framework hands over).

    A polled batch holds up to 100 updates; handled all at once, each takes a pooled database
    connection and builds its objects at the same moment, and the process keeps the heap it grew. The
    gate counts what is in flight and the most there ever were (``GET /metrics``, and the tests), and
    calls ``on_idle``'s callbacks each time the last update in flight is done.
    """

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._slots = asyncio.Semaphore(limit) if limit is not None else None
        self.in_flight = 0
        self.most_in_flight = 0
        self.handled = 0
        self.on_idle: list[Callable[[], None]] = []

    async def __aenter__(self) -> None:
        if self._slots is not None:
            await self._slots.acquire()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.in_flight -= 1
        self.handled += 1
        if self._slots is not None:
            self._slots.release()
        if not self.in_flight:
            for callback in self.on_idle:
                callback()


class Runtime(Protocol):
    """A chat framework driving the chat core: updates in, the core's replies and notifications out."""

    name: str
    messenger: Messenger
    updates: UpdateGate

    async def identity(self) -> Identity: ...

    def mount(self, chat: ChatCore) -> None:
        """Route the framework's updates to ``chat``."""

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
