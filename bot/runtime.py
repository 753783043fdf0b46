"""What the process asks of a chat runtime (aiogram or python-telegram-bot), whichever one it runs on.

Each runtime lives in one module, ``bot.aiogram_runtime`` or ``bot.ptb_runtime``, which imports its
framework at the top: import only the one you run on (aiogram alone costs ~120 MiB resident).
"""

from __future__ import annotations

from dataclasses import dataclass
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


class Runtime(Protocol):
    """A chat framework driving the chat core: updates in, the core's replies and notifications out."""

    name: str
    messenger: Messenger

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
