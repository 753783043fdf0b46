"""The emulator opens Mini Apps as Telegram does: launch data the board accepts, and no other bot's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest

from bot.webapp.initdata import InvalidInitData, validate
from telegram_emulator import Emulator

TOKEN = "123456:TEST-token"
ANN = 1001


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[Emulator, aiohttp.ClientSession]]:
    async with Emulator(port=0) as emu, aiohttp.ClientSession() as http:
        async with http.post(f"{emu.url}/bot{TOKEN}/getMe") as response:
            assert response.status == 200  # the bot is known, with its token
        await http.post(
            f"{emu.url}/emulator/users",
            json={"id": ANN, "first_name": "Ann", "username": "ann", "language_code": "ar"},
        )
        yield emu, http


async def launch(emu: Emulator, http: aiohttp.ClientSession, **body: Any) -> tuple[int, dict[str, Any]]:
    async with http.post(f"{emu.url}/emulator/webapp/launch", json=body) as response:
        return response.status, await response.json()


async def test_a_mini_app_gets_launch_data_signed_with_its_bots_token(
    emulator: tuple[Emulator, aiohttp.ClientSession],
) -> None:
    emu, http = emulator
    status, opened = await launch(emu, http, user_id=ANN, url="http://127.0.0.1:8080/app/board#old")
    assert status == 200, opened
    address = urlsplit(opened["url"])
    assert f"{address.scheme}://{address.netloc}{address.path}" == "http://127.0.0.1:8080/app/board"
    params = dict(parse_qsl(address.fragment))
    assert params["tgWebAppData"] == opened["init_data"]
    assert params["tgWebAppVersion"] and params["tgWebAppPlatform"] == "web"
    assert json.loads(params["tgWebAppThemeParams"])["bg_color"].startswith("#")
    data = validate(opened["init_data"], bot_token=TOKEN, now=datetime.now(UTC))
    assert (data.user.id, data.user.first_name, data.user.language_code) == (ANN, "Ann", "ar")
    assert set(data.fields) == {"query_id", "user", "auth_date", "signature"}
    with pytest.raises(InvalidInitData):
        validate(opened["init_data"], bot_token="654321:another-bot", now=datetime.now(UTC))


async def test_the_page_may_pass_its_theme(emulator: tuple[Emulator, aiohttp.ClientSession]) -> None:
    emu, http = emulator
    dark = {"bg_color": "#17212b", "text_color": "#f5f5f5"}
    status, opened = await launch(emu, http, user_id=ANN, url="https://example.com/app", theme_params=dark)
    assert status == 200
    theme = json.loads(dict(parse_qsl(urlsplit(opened["url"]).fragment))["tgWebAppThemeParams"])
    assert theme["bg_color"] == "#17212b" and theme["button_color"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"user_id": 4242, "url": "https://example.com/app"}, 404),
        ({"user_id": ANN}, 400),
        ({"user_id": ANN, "url": "javascript:alert(1)"}, 400),
        ({"user_id": ANN, "url": "https://example.com/app", "theme_params": ["#fff"]}, 400),
    ],
)
async def test_a_launch_that_telegram_would_not_make_is_refused(
    emulator: tuple[Emulator, aiohttp.ClientSession], body: dict[str, Any], status: int
) -> None:
    emu, http = emulator
    answer_status, answer = await launch(emu, http, **body)
    assert answer_status == status and "error" in answer


async def test_the_chat_shows_the_menu_button_the_bot_set(
    emulator: tuple[Emulator, aiohttp.ClientSession],
) -> None:
    emu, http = emulator
    await http.post(f"{emu.url}/emulator/messages", json={"user_id": ANN, "text": "/start"})

    async def shown() -> Any:
        async with http.get(f"{emu.url}/emulator/chats/{ANN}") as response:
            return (await response.json())["menu_button"]

    assert await shown() == {"type": "default"}
    button = {"type": "web_app", "text": "Board", "web_app": {"url": "https://example.com/app/board"}}
    async with http.post(f"{emu.url}/bot{TOKEN}/setChatMenuButton", json={"menu_button": button}) as response:
        assert response.status == 200
    assert await shown() == button
