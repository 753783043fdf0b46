"""Webhook delivery: POST each update, in order, until the bot's server answers 2xx.

A failed delivery (not 2xx, refused, or no answer in 10 s) is retried after a backoff that starts at
`webhook_retry_s` and doubles up to `webhook_retry_max_s`; the update stays first in line meanwhile,
so later ones wait, as on Telegram. A 2xx answer may carry a method call (Telegram's "reply in the
webhook response"), which is run as if the bot had called it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from telegram_emulator.models import Update, Webhook, now_ts
from telegram_emulator.params import Params, Upload
from telegram_emulator.state import BotState, World

Executor = Callable[[World, BotState, str, Params], Awaitable[tuple[int, dict[str, Any]]]]
TIMEOUT_S = 10.0


class WebhookDelivery:
    def __init__(self, world: World, execute: Executor) -> None:
        self.world = world
        self.execute = execute
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.session: aiohttp.ClientSession | None = None
        world.update_listeners.append(self.schedule)

    def schedule(self, bot: BotState) -> None:
        """Start delivering to the bot's webhook unless a delivery is already running."""
        task = self.tasks.get(bot.id)
        if bot.webhook is None or not bot.pending or (task is not None and not task.done()):
            return
        self.tasks[bot.id] = asyncio.get_running_loop().create_task(self._deliver(bot.id))

    async def close(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        for task in self.tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def _deliver(self, bot_id: int) -> None:
        delay = self.world.limits.webhook_retry_s
        while True:
            bot = self.world.bots.get(bot_id)
            if bot is None or bot.webhook is None or not bot.pending:
                return
            update, hook = bot.pending[0], bot.webhook
            error = await self._post(bot, hook, update)
            if error is None:
                if update in bot.pending:
                    bot.pending.remove(update)
                bot.touch()
                delay = self.world.limits.webhook_retry_s
                continue
            hook.last_error_date, hook.last_error_message = now_ts(), error
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.world.limits.webhook_retry_max_s)

    async def _post(self, bot: BotState, hook: Webhook, update: Update) -> str | None:
        """Deliver one update; None when the bot's server took it, else Telegram's error text."""
        if self.session is None:
            self.session = aiohttp.ClientSession()
        headers = {"X-Telegram-Bot-Api-Secret-Token": hook.secret_token} if hook.secret_token else {}
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        try:
            async with self.session.post(
                hook.url, json=update.as_telegram(), headers=headers, timeout=timeout
            ) as response:
                if not 200 <= response.status < 300:
                    return f"Wrong response from the webhook: {response.status} {response.reason}"
                reply = await _reply_params(response)
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientConnectionError:
            return "Connection refused"
        except aiohttp.ClientError as error:
            return f"Wrong response from the webhook: {error}"
        if reply is not None and isinstance(method := reply.values.pop("method", None), str):
            await self.execute(self.world, bot, method, reply)
        return None


async def _reply_params(response: aiohttp.ClientResponse) -> Params | None:
    """A method call in the webhook's answer, as JSON or multipart form (aiogram sends the latter)."""
    if response.content_type == "application/json":
        with contextlib.suppress(ValueError):
            body = json.loads(await response.read() or b"null")
            return Params(body) if isinstance(body, dict) and "method" in body else None
        return None
    if not response.content_type.startswith("multipart/"):
        return None
    values: dict[str, Any] = {}
    reader = aiohttp.MultipartReader.from_response(response)
    while (part := await reader.next()) is not None:
        if isinstance(part, aiohttp.BodyPartReader) and part.name:
            if part.filename is not None:
                values[part.name] = Upload(
                    part.filename, part.headers.get("Content-Type"), bytes(await part.read())
                )
            else:
                values[part.name] = await part.text()
    return Params(values)
