"""CLI fixtures: the `kanbot` command over a fresh database of each backend, run from an empty folder."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from crm_core.adapters.database import Database
from crm_core.domain.users import Role
from crm_core.services import Crm
from tests.cli.support import ALICE, BOB, BOSS, Kanbot


@pytest.fixture
def kanbot(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kanbot:
    """`kanbot` on a migrated, empty database; no `.env` or KANBOT_* setting of the caller's leaks in."""
    monkeypatch.chdir(tmp_path)
    for name in os.environ:
        if name.startswith("KANBOT_") and name != "KANBOT_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    return Kanbot(database_url)


@pytest.fixture
def team(kanbot: Kanbot) -> Kanbot:
    """What `kanbot init` and `kanbot user add` make (those commands have their own tests), made directly
    for speed: the default funnel, a boss (100), and two sellers, Alice (201, ext 101) and Bob (202, in
    Moscow, speaking Russian)."""

    async def seed() -> None:
        db = Database(kanbot.database_url)
        try:
            crm = Crm(db)
            await crm.pipelines.seed_defaults()
            await crm.users.ensure_boss(telegram_id=BOSS, name="Boss")
            await crm.users.add(telegram_id=ALICE, name="Alice", role=Role.SELLER, extensions=("101",))
            await crm.users.add(
                telegram_id=BOB, name="Bob", role=Role.SELLER, timezone="Europe/Moscow", locale="ru"
            )
        finally:
            await db.dispose()

    asyncio.run(seed())
    return kanbot
