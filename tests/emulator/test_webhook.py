"""Webhook mode: updates POSTed with the secret header, in order, redelivered until answered 2xx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramConflictError
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.emulator.support import ANN, Telegram

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Run an aiohttp app on a free port; yield its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def hook_app(handler: Handler) -> web.Application:
    app = web.Application()
    app.router.add_post("/hook", handler)
    return app


async def test_a_webhook_gets_each_update_with_the_secret_token_header(tg: Telegram, ann: int) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.Response()

    async with serving(hook_app(hook)) as base:
        assert await tg.api("setWebhook", url=f"{base}/hook", secret_token="s3cret") == (
            200,
            {"ok": True, "result": True, "description": "Webhook was set"},
        )
        sent = await tg.send(ANN, "hello")
        await tg.wait()
    [(secret, update)] = received
    assert secret == "s3cret"
    assert update["update_id"] == sent["update_id"]
    assert update["message"]["text"] == "hello"
    assert update["message"]["from"]["id"] == ANN


async def test_a_failed_delivery_is_retried_and_the_update_arrives_once_more_only(
    tg: Telegram, ann: int
) -> None:
    answers = iter([500, 200])
    arrivals: list[int] = []

    async def hook(request: web.Request) -> web.Response:
        arrivals.append((await request.json())["update_id"])
        return web.Response(status=next(answers, 200))

    await tg.limits(webhook_retry_s=0.05)
    async with serving(hook_app(hook)) as base:
        await tg.ok("setWebhook", url=f"{base}/hook")
        first = await tg.send(ANN, "first")
        second = await tg.send(ANN, "second")  # queued behind the failing one, as on Telegram
        await tg.wait()
    assert arrivals == [first["update_id"], first["update_id"], second["update_id"]]
    info = await tg.ok("getWebhookInfo")
    assert info["pending_update_count"] == 0
    assert info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"


async def test_get_updates_while_a_webhook_is_set_is_a_409_conflict(
    tg: Telegram, aiogram_bot: Bot, ann: int
) -> None:
    await tg.ok("setWebhook", url="http://127.0.0.1:9/hook")
    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook is active"):
        await aiogram_bot.get_updates()
    await tg.ok("deleteWebhook")
    assert await aiogram_bot.get_updates() == []


async def test_deleting_the_webhook_with_drop_pending_updates_forgets_what_was_not_delivered(
    tg: Telegram, ann: int
) -> None:
    await tg.limits(webhook_retry_s=1)
    await tg.ok("setWebhook", url="http://127.0.0.1:9/nobody-listens")
    await tg.send(ANN, "lost")
    assert (await tg.ok("getWebhookInfo"))["pending_update_count"] == 1
    assert await tg.api("deleteWebhook", drop_pending_updates=True) == (
        200,
        {"ok": True, "result": True, "description": "Webhook was deleted"},
    )
    assert await tg.ok("getUpdates") == []


async def test_an_aiogram_webhook_bot_can_reply_in_the_webhook_response(
    tg: Telegram, aiogram_bot: Bot, ann: int
) -> None:
    dp = Dispatcher()

    @dp.message(F.text == "ping")
    async def ping(message: Message) -> Any:
        return message.answer("pong")  # not awaited: aiogram puts the call in the webhook's answer

    app = web.Application()
    SimpleRequestHandler(dp, aiogram_bot, handle_in_background=False, secret_token="s3cret").register(
        app, "/tg"
    )
    async with serving(app) as base:
        await aiogram_bot.set_webhook(f"{base}/tg", secret_token="s3cret")
        await tg.send(ANN, "ping")
        await tg.wait()
    assert (await tg.last(ANN))["text"] == "pong"
    sends = await tg.get("/emulator/log?method=sendMessage")
    assert [entry["status"] for entry in sends] == [200]
