"""Helpers for the emulator's tests: raw HTTP to both of its sides, a real PNG, running an aiogram bot."""

from __future__ import annotations

import asyncio
import json
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher

from telegram_emulator import Emulator

TOKEN = "123456:TEST-token"
BOT_ID = 123456
ANN, BOB = 1001, 1002


def make_png(width: int, height: int, rgb: tuple[int, int, int] = (47, 127, 240)) -> bytes:
    """A real, one-colour PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = make_png(40, 30)


@dataclass
class Telegram:
    """Raw HTTP to the emulator: the Bot API as a bot sees it, the control API as a test drives it."""

    url: str
    http: aiohttp.ClientSession

    async def api(self, method: str, token: str = TOKEN, **params: Any) -> tuple[int, dict[str, Any]]:
        """Call a Bot API method with a JSON body; return the status and Telegram's answer."""
        async with self.http.post(f"{self.url}/bot{token}/{method}", json=params) as response:
            return response.status, await response.json()

    async def ok(self, method: str, token: str = TOKEN, **params: Any) -> Any:
        status, body = await self.api(method, token, **params)
        assert status == 200, body
        return body["result"]

    async def error(self, method: str, token: str = TOKEN, **params: Any) -> tuple[int, str]:
        status, body = await self.api(method, token, **params)
        assert not body["ok"], body
        assert body["error_code"] == status
        return status, body["description"]

    async def control(self, verb: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.http.request(verb, f"{self.url}{path}", json=body) as response:
            text = await response.text()
            return response.status, json.loads(text) if text else None

    async def post(self, path: str, body: Any = None) -> Any:
        status, data = await self.control("POST", path, body or {})
        assert status == 200, data
        return data

    async def get(self, path: str) -> Any:
        status, data = await self.control("GET", path)
        assert status == 200, data
        return data

    async def user(self, user_id: int = ANN, first_name: str = "Ann", **fields: Any) -> Any:
        return await self.post("/emulator/users", {"id": user_id, "first_name": first_name, **fields})

    async def send(self, user_id: int, text: str, **fields: Any) -> Any:
        return await self.post("/emulator/messages", {"user_id": user_id, "text": text, **fields})

    async def click(self, user_id: int, message_id: int, button: str, **fields: Any) -> Any:
        body = {"user_id": user_id, "message_id": message_id, "button": button, **fields}
        return await self.post("/emulator/clicks", body)

    async def messages(self, chat_id: int, **query: Any) -> list[dict[str, Any]]:
        suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
        return list(await self.get(f"/emulator/chats/{chat_id}/messages{suffix}"))

    async def last(self, chat_id: int) -> dict[str, Any]:
        visible = [m for m in await self.messages(chat_id) if not m["deleted"]]
        return visible[-1]

    async def wait(self, quiet_ms: int = 150, timeout_ms: int = 5000, **fields: Any) -> Any:
        return await self.post("/emulator/wait", {"quiet_ms": quiet_ms, "timeout_ms": timeout_ms, **fields})

    async def limits(self, **limits: Any) -> Any:
        return await self.post("/emulator/limits", limits)


@asynccontextmanager
async def polling(emulator: Emulator, dispatcher: Dispatcher, bot: Bot) -> AsyncIterator[None]:
    """Run an aiogram dispatcher's long polling against the emulator for the block's duration."""
    task = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False))
    for _ in range(500):  # until the emulator has seen its first getUpdates
        state = emulator.world.bots.get(BOT_ID)
        if state is not None and state.poll_generation > 0:
            break
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        await dispatcher.stop_polling()
        await task
