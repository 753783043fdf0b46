"""A boss takeover through the Telegram webhook, tried as an outsider would, on both runtimes.

The outsider knows a boss's Telegram id (the bot tells strangers theirs, and ids leak) and the
webhook's public address. They POST updates "from" the boss whose chat is their own: ``/report``, and
a press of "invite a new boss". Webhook mode without a secret used to take them, and the replies —
the funnel report, then a boss invitation link — went to the outsider's chat. Now webhook mode does
not start without a secret, and an update whose private chat is not its sender's is refused anyway
(should the secret leak).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from bot.core import actions as A
from bot.core.codec import encode
from bot.settings import NO_WEBHOOK_SECRET, MissingWebhookSecret
from crm_core.services import Crm
from kanbot.runtimes import make_runtime
from telegram_emulator import Emulator
from tests.e2e.harness import (
    BOSS,
    TOKEN,
    WEBHOOK_PATH,
    EmulatedChat,
    RunningKanbot,
    webhook_settings,
)
from tests.reliability.nothing_lost import TALLY
from tests.reliability.rawhttp import raw_request
from tests.support.databases import SQLITE_ONLY
from tests.support.network import free_port

OUTSIDER = 9002
WEBHOOK = WEBHOOK_PATH
SECRET = "takeover-test-webhook-secret"
RUNTIMES = pytest.mark.parametrize("runtime", ["aiogram", "ptb"])


def forged_report(update_id: int) -> dict[str, Any]:
    """``/report`` from the boss, in the outsider's private chat."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": OUTSIDER, "type": "private", "first_name": "Olga"},
            "from": {"id": BOSS, "is_bot": False, "first_name": "Olga", "language_code": "en"},
            "text": "/report",
            "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
        },
    }


def forged_boss_invite(update_id: int) -> dict[str, Any]:
    """A press of "invite a new boss" by the boss, on a message in the outsider's private chat (its draft
    number guessed: the first one a boss's dialogs get)."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"forged-{update_id}",
            "chat_instance": "1",
            "from": {"id": BOSS, "is_bot": False, "first_name": "Olga", "language_code": "en"},
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": OUTSIDER, "type": "private", "first_name": "Olga"},
                "from": {"id": 700001, "is_bot": True, "first_name": "Kanbot"},
                "text": "Invite a new…",
            },
            "data": encode(A.Invite("boss", 1)),  # the first draft: a guess as good as any
        },
    }


async def post(port: int, update: dict[str, Any], secret: str | None) -> int | None:
    """POST an update to the webhook as anyone can; its status, ``None`` when nothing listens."""
    TALLY.fault("forged update")
    headers = [b"Content-Type: application/json"]
    if secret is not None:
        headers.append(b"X-Telegram-Bot-Api-Secret-Token: " + secret.encode())
    try:
        answer = await raw_request(port, "POST", WEBHOOK, headers=headers, body=json.dumps(update).encode())
    except ConnectionError:
        return None
    return answer.status


@pytest.fixture
async def outsider(emulator: Emulator) -> AsyncIterator[EmulatedChat]:
    """The emulated Telegram, where the outsider and the boss have their chats with the bot."""
    async with aiohttp.ClientSession() as http:
        users = EmulatedChat(emulator.url, http)
        await users.user(BOSS, "Olga")
        await users.user(OUTSIDER, "Mallory")
        yield users


async def invitations(crm: Crm) -> int:
    async with crm.db.engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM invites")) or 0)


@SQLITE_ONLY
@RUNTIMES
async def test_an_outsider_posting_a_bosss_updates_to_a_webhook_without_a_secret_gets_nothing(
    runtime: str, crm: Crm, database_url: str, emulator: Emulator, outsider: EmulatedChat
) -> None:
    settings = webhook_settings(database_url, emulator.url, port=free_port(), secret=None, runtime=runtime)
    kanbot = RunningKanbot(settings)
    refusal: str | None = None
    try:
        await kanbot.start()
    except MissingWebhookSecret as error:
        refusal = str(error)
    try:
        port = settings.server.http_port
        answers = [
            await post(port, forged_report(990_101), None),
            await post(port, forged_boss_invite(990_102), None),
        ]
    finally:
        if kanbot.kanbot is not None:
            await kanbot.stop()
    assert await outsider.bot_messages(OUTSIDER) == [], "the outsider got the boss's replies"
    assert await invitations(crm) == 0
    assert answers == [None, None]  # nothing listens: webhook mode did not start
    assert refusal == NO_WEBHOOK_SECRET
    TALLY.checks += 1


@RUNTIMES
async def test_an_update_whose_private_chat_is_not_its_sender_is_refused_even_with_the_secret(
    runtime: str,
    crm: Crm,
    database_url: str,
    emulator: Emulator,
    outsider: EmulatedChat,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Defence in depth: with the secret leaked, the forged updates still reach nobody and change nothing."""
    settings = webhook_settings(database_url, emulator.url, port=free_port(), secret=SECRET, runtime=runtime)
    kanbot = RunningKanbot(settings)
    await kanbot.start()
    caplog.set_level(logging.INFO)
    try:
        port = settings.server.http_port
        answers = [
            await post(port, forged_report(990_201), SECRET),
            await post(port, forged_boss_invite(990_202), SECRET),
        ]
    finally:
        await kanbot.stop()
    assert answers == [200, 200]  # taken (Telegram must not redeliver them) and ignored
    assert await outsider.bot_messages(OUTSIDER) == [], "the outsider got the boss's replies"
    assert await outsider.bot_messages(BOSS) == []
    assert await invitations(crm) == 0
    async with crm.db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM processed")) == 0
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert any(f"private chat {OUTSIDER}" in line and f"sender {BOSS}" in line for line in refused), refused
    TALLY.checks += 1


@RUNTIMES
def test_a_runtime_refuses_to_serve_a_webhook_without_a_secret(runtime: str) -> None:
    from aiohttp import web

    built = make_runtime(runtime, TOKEN, "http://127.0.0.1:9")
    app = web.Application()
    for secret in (None, ""):
        with pytest.raises(MissingWebhookSecret, match="KANBOT_WEBHOOK_SECRET"):
            built.webhook_route(app, WEBHOOK, secret)  # type: ignore[arg-type]
    assert [r for r in app.router.routes() if r.method == "POST"] == []


def test_the_secret_checks_refuse_everything_when_no_secret_is_expected() -> None:
    from aiogram import Bot, Dispatcher

    from bot.aiogram_runtime import _Webhook
    from bot.ptb_runtime import webhook_secret_ok

    handler = _Webhook(dispatcher=Dispatcher(), bot=Bot("1:x"), secret_token=None)
    for sent in ("", "anything"):
        assert not handler.verify_secret(sent, handler.bot)
        assert not webhook_secret_ok(sent, "")
    assert not webhook_secret_ok(None, None)  # type: ignore[arg-type]
