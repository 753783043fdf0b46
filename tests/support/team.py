"""Kanbot running against the emulator, with its team: the fixtures the chat tests share.

A folder takes them into its ``conftest.py`` by importing them (tests/e2e, tests/reliability, tests/ops);
a test module that needs another Kanbot (other settings, a fixed port) defines its own ``kanbot``.
``runtime`` is python-telegram-bot (the default) here; tests/e2e parametrizes it over both chat
runtimes. ``guests`` names who is on Telegram beside the team.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import (
    RUNTIME,
    STRANGER,
    EmulatedChat,
    RunningKanbot,
    seeded_crm,
    settings_for,
    team_chat,
)

__all__ = ["Guest", "chat", "crm", "guests", "kanbot", "runtime"]


@pytest.fixture
async def crm(database_url: str) -> AsyncIterator[Crm]:
    """The CRM on the bot's database (Olga the boss, Ali and Maria the sellers), to set scenes and check
    what the bot did."""
    async with seeded_crm(database_url) as crm:
        yield crm


@pytest.fixture
def runtime() -> str:
    """The chat runtime Kanbot runs on (KANBOT_E2E_RUNTIME, python-telegram-bot when unset)."""
    return RUNTIME


@pytest.fixture
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, runtime: str
) -> AsyncIterator[RunningKanbot]:
    """``kanbot run`` in the test's event loop, polling the emulator."""
    running = RunningKanbot(settings_for(database_url, emulator.url, runtime))
    await running.start()
    yield running
    await running.stop()


Guest = tuple[int, str, str]  # a Telegram user beside the team: id, first name, language


@pytest.fixture
def guests() -> tuple[Guest, ...]:
    """Who else is on Telegram beside the team: a stranger, Eve (a test module may name others)."""
    return ((STRANGER, "Eve", "en"),)


@pytest.fixture
async def chat(
    kanbot: RunningKanbot, emulator: Emulator, guests: tuple[Guest, ...]
) -> AsyncIterator[EmulatedChat]:
    """The team and the guests in the emulated Telegram, waiting for Kanbot's handlers."""
    async with team_chat(kanbot, emulator.url, *guests) as users:
        yield users
