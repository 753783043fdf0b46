"""End-to-end fixtures: the Telegram emulator, Kanbot running against it, and the emulated users."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.emulator import Emulator
from crm_core.services import Crm
from tests.e2e.harness import (
    ALI,
    BOSS,
    MARIA,
    STRANGER,
    EmulatedChat,
    RunningKanbot,
    seeded_crm,
    settings_for,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(port=0) as emu:
        yield emu


@pytest.fixture
async def crm(database_url: str) -> AsyncIterator[Crm]:
    """The CRM on the bot's database, to check what the bot did (and to set the scene)."""
    async with seeded_crm(database_url) as crm:
        yield crm


@pytest.fixture
async def kanbot(crm: Crm, database_url: str, emulator: Emulator) -> AsyncIterator[RunningKanbot]:
    running = RunningKanbot(settings_for(database_url, emulator.url))
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def chat(kanbot: RunningKanbot, emulator: Emulator) -> AsyncIterator[EmulatedChat]:
    async with aiohttp.ClientSession() as session:
        users = EmulatedChat(
            emulator.url, session, activity=kanbot.activity, let_time_pass=kanbot.let_time_pass
        )
        await users.user(BOSS, "Olga")
        await users.user(ALI, "Ali")
        await users.user(MARIA, "Maria", "ru")
        await users.user(STRANGER, "Eve")
        yield users
