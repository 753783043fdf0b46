"""Updates at the edges of what Telegram sends, posted to the webhook: ids past what Telegram gives out
are ignored (200, nothing stored, nothing sent), never a 500 — on both runtimes."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import ALI, WEBHOOK_PATH, EmulatedChat, RunningKanbot, webhook_settings
from tests.ops.support import SECRET, rows
from tests.support.network import free_port

WEBHOOK = WEBHOOK_PATH
HUGE = 2**70  # Telegram's ids fit in 52 bits


@pytest.fixture(params=["aiogram", "ptb"])
async def kanbot(
    request: pytest.FixtureRequest, crm: Crm, database_url: str, emulator: Emulator
) -> AsyncIterator[RunningKanbot]:
    """``kanbot run`` in webhook mode on each runtime: Telegram (here the test) posts to its port."""
    settings = webhook_settings(
        database_url, emulator.url, port=free_port(), secret=SECRET, runtime=request.param
    )
    running = RunningKanbot(settings)
    await running.start()
    yield running
    await running.stop()


def sender(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Eve", "language_code": "en"}


def message(update_id: int, user_id: int, chat_id: int, text: str) -> dict[str, Any]:
    entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Eve"},
            "from": sender(user_id),
            "text": text,
            "entities": entities if text.startswith("/") else [],
        },
    }


def press(update_id: int, user_id: int, data: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"q{update_id}",
            "from": sender(user_id),
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private", "first_name": "Eve"},
                "text": "a card",
            },
        },
    }


async def post(kanbot: RunningKanbot, update: dict[str, Any]) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(kanbot.http_url + WEBHOOK, data=json.dumps(update), headers=headers) as response,
    ):
        return response.status


FORGED = {
    "a /start": message(990_101, HUGE, HUGE, "/start"),
    "a text": message(990_102, HUGE, HUGE, "hello"),
    "a command in a member's chat": message(990_103, HUGE, ALI, "/deals"),
    "a member's command in a huge chat": message(990_104, ALI, -HUGE, "/deals"),
    "a button press": press(990_105, HUGE, "1mn"),
}


async def test_updates_with_ids_past_telegrams_range_are_ignored_not_a_500(
    kanbot: RunningKanbot, emulator: Emulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with aiohttp.ClientSession() as http:
        ali = EmulatedChat(emulator.url, http)
        await ali.user(ALI, "Ali")
        for what, update in FORGED.items():
            assert await post(kanbot, update) == 200, what
        # python-telegram-bot answers 200 whatever its handler did: the error shows in the log only
        errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], errors
        assert await rows(database_url, "SELECT key FROM processed") == []
        assert await rows(database_url, "SELECT subject_id FROM dialogs") == []
        assert await ali.bot_messages(ALI) == []
        # and the bot still answers everyone else
        assert await post(kanbot, message(990_199, ALI, ALI, "/deals")) == 200
        assert "No open deals" in (await ali.last(ALI)).text
