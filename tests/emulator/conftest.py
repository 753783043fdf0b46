"""Fixtures for the emulator's tests: raw HTTP to both sides of the running emulator (tests/support), real
bots."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from telegram_emulator import Emulator
from tests.emulator.support import ANN, TOKEN, Telegram


@pytest.fixture
async def tg(emulator: Emulator) -> AsyncIterator[Telegram]:
    async with aiohttp.ClientSession() as http:
        yield Telegram(emulator.url, http)


@pytest.fixture
async def ann(tg: Telegram) -> int:
    """Ann exists and the bot has introduced itself (getMe), so control calls know which bot."""
    await tg.user(ANN, "Ann", username="ann", language_code="en")
    await tg.ok("getMe")
    return ANN


@pytest.fixture
async def aiogram_bot(emulator: Emulator) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.url)))
    yield bot
    await bot.session.close()
