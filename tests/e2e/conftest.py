"""End-to-end fixtures: the Telegram emulator, Kanbot running against it, and the emulated users."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from crm_core.adapters.tables import metadata
from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import (
    STRANGER,
    EmulatedChat,
    RunningKanbot,
    seeded_crm,
    settings_for,
    team_chat,
)

pytestmark = pytest.mark.e2e
RESTART_SEQUENCES = """
    SELECT setval(c.oid::regclass, 1, false) FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'S' AND n.nspname = current_schema()
"""


async def _empty(url: str) -> None:
    """Empty every table and restart the ids: the few rows an e2e test leaves go faster by DELETE than
    by TRUNCATE, whose fixed cost per table was a third of a second per test."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())
        await conn.execute(text(RESTART_SEQUENCES))
    await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """tests/conftest.py's fresh database per test and backend, emptied the quick way on PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "kanbot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite+aiosqlite:///{target}"
    else:
        url = request.getfixturevalue("postgres_server_url")
        asyncio.run(_empty(url))
        yield url


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(port=0) as emu:
        yield emu


@pytest.fixture
async def crm(database_url: str) -> AsyncIterator[Crm]:
    """The CRM on the bot's database, to check what the bot did (and to set the scene)."""
    async with seeded_crm(database_url) as crm:
        yield crm


RUNTIMES = ["aiogram", "ptb"]


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    """The chat runtime Kanbot runs on: every scenario runs on aiogram and on python-telegram-bot."""
    return str(request.param)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Runtime neutrality is checked on SQLite and database neutrality on aiogram, so the scenarios
    run on (aiogram, SQLite), (aiogram, PostgreSQL) and (python-telegram-bot, SQLite); the fourth
    combination proves nothing new and is deselected. KANBOT_E2E_RUNTIME picks one runtime alone."""
    only = os.environ.get("KANBOT_E2E_RUNTIME")
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        runtime = params.get("runtime")
        redundant = runtime == "ptb" and params.get("database_url") == "postgresql" and not only
        (drop if redundant or (only and runtime not in (None, only)) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, runtime: str
) -> AsyncIterator[RunningKanbot]:
    running = RunningKanbot(settings_for(database_url, emulator.url, runtime))
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def chat(kanbot: RunningKanbot, emulator: Emulator) -> AsyncIterator[EmulatedChat]:
    async with team_chat(kanbot, emulator.url, (STRANGER, "Eve", "en")) as users:
        yield users
