"""The chat's menu button — the board app, beside the input — is labelled in each member's language:
set in their chat at /start and by /lang, and at start-up for members whose language is not English
(Telegram keeps one default label for everyone, in English). The command menu is in each language too:
Telegram's default per language for people who have not started yet, and each chat's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.core.i18n import Tr
from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import ALI, MARIA, TOKEN, EmulatedChat, RunningKanbot, settings_for

BOARD_URL = "https://kanbot.example.com/app/board"


@pytest.fixture
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, runtime: str
) -> AsyncIterator[RunningKanbot]:
    settings = settings_for(database_url, emulator.url, runtime)
    settings.telegram.board_app_url = BOARD_URL
    running = RunningKanbot(settings)
    await running.start()
    yield running
    await running.stop()


async def menu_button(chat: EmulatedChat, user: int) -> Any:
    return (await chat._get(f"/chats/{user}"))["menu_button"]


def board_in(locale: str) -> dict[str, Any]:
    return {"type": "web_app", "text": Tr(locale).label("Board"), "web_app": {"url": BOARD_URL}}


async def test_the_menu_button_speaks_the_members_language_from_start_and_lang(
    chat: EmulatedChat, crm: Crm
) -> None:
    assert board_in("ru")["text"] != "Board" and board_in("ar")["text"] != "Board"
    await chat.send(MARIA, "/start")
    assert await menu_button(chat, MARIA) == board_in("ru")
    await chat.send(ALI, "/start")
    assert await menu_button(chat, ALI) == board_in("en")
    await chat.send(ALI, "/lang ar")
    assert await menu_button(chat, ALI) == board_in("ar")


async def test_at_start_up_each_member_not_in_english_gets_the_label_in_their_language(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await chat.send(ALI, "/start")
    await crm.users.update_preferences(actor=await crm.users.identify(ALI), locale="ar")
    await kanbot.restart()

    async def in_arabic() -> bool:  # set in the background: the start is not held up for it
        return bool(await menu_button(chat, ALI) == board_in("ar"))

    await chat.wait_until(in_arabic, timeout_s=15, what="Ali's menu button in Arabic")


async def bot_api(emulator: Emulator, method: str, **params: Any) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{emulator.url}/bot{TOKEN}/{method}", json=params) as response,
    ):
        return (await response.json())["result"]


async def test_the_command_menu_is_in_each_language_for_people_who_have_not_started_yet(
    kanbot: RunningKanbot, emulator: Emulator
) -> None:
    for locale in ("ru", "ar"):
        commands = await bot_api(emulator, "getMyCommands", language_code=locale)
        described = {c["command"]: c["description"] for c in commands}
        assert described["deals"] == Tr(locale)("My deals") != "My deals"
        assert described["tasks"] == Tr(locale)("My tasks") != "My tasks"
    english = await bot_api(emulator, "getMyCommands")
    assert {c["command"]: c["description"] for c in english}["deals"] == "My deals"


async def test_a_chat_gets_its_command_menu_in_the_members_language(
    chat: EmulatedChat, emulator: Emulator
) -> None:
    await chat.send(MARIA, "/start")
    scope = {"type": "chat", "chat_id": MARIA}
    commands = await bot_api(emulator, "getMyCommands", scope=scope)
    assert {c["command"]: c["description"] for c in commands}["deals"] == Tr("ru")("My deals")
