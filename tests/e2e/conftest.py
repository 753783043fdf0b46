"""End-to-end fixtures: every scenario on both chat runtimes, on a database emptied the quick way.

The emulator (tests/support/fixtures.py), Kanbot running against it and the team's chat
(tests/support/team.py) are the shared ones."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from crm_core.adapters.tables import metadata
from tests.support.team import chat, crm, guests, kanbot  # noqa: F401  (fixtures, taken by name)

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


RUNTIMES = ["ptb", "aiogram"]  # the default first


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    """The chat runtime Kanbot runs on: every scenario runs on python-telegram-bot and on aiogram."""
    return str(request.param)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Runtime neutrality is checked on SQLite and database neutrality on the default runtime
    (python-telegram-bot), so the scenarios run on (python-telegram-bot, SQLite), (python-telegram-bot,
    PostgreSQL) and (aiogram, SQLite); the fourth combination proves nothing new and is deselected.
    KANBOT_E2E_RUNTIME picks one runtime alone."""
    only = os.environ.get("KANBOT_E2E_RUNTIME")
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        runtime = params.get("runtime")
        redundant = runtime == "aiogram" and params.get("database_url") == "postgresql" and not only
        (drop if redundant or (only and runtime not in (None, only)) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
