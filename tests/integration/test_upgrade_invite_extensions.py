"""Upgrading a database from before invitations carried extensions and the morning plan had a time:
a pending invitation still works (giving no extension), and morning plans keep coming when the
working day begins."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from crm_core.adapters import migrate
from crm_core.adapters.database import Database
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.conftest import BACKENDS, PG_ENV, PG_SKIP, T0

# The schema just before this upgrade (whatever it follows once merged).
BEFORE = str(ScriptDirectory.from_config(migrate.alembic_config()).get_revision("0010").down_revision)


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP)
    name = f"kanbot_upgrade_0010_{os.getpid()}"
    server = make_url(base).render_as_string(hide_password=False)
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


OLD_ROWS = [
    "INSERT INTO users (telegram_id, name, role, created_at) VALUES (100, 'Olga', 'boss', :t0)",
    "INSERT INTO invites (code, role, created_by_id, created_at, expires_at) "
    "SELECT 'old-code', 'seller', id, :t0, :t7 FROM users WHERE telegram_id = 100",
    "INSERT INTO user_settings (user_id, morning_plan_enabled) "
    "SELECT id, true FROM users WHERE telegram_id = 100",
]


async def _upgrade_an_old_database(url: str) -> Database:
    db = Database(url)
    await migrate.upgrade(db, BEFORE)
    times = {"t0": T0, "t7": T0 + timedelta(days=7)}
    async with db.engine.begin() as conn:
        for statement in OLD_ROWS:
            await conn.execute(
                text(statement).bindparams(**{k: v for k, v in times.items() if f":{k}" in statement})
            )
    await migrate.upgrade(db)
    return db


def test_an_old_invitation_still_works_and_the_morning_plan_keeps_its_time(empty_url: str) -> None:
    async def go() -> None:
        db = await _upgrade_an_old_database(empty_url)
        try:
            crm = Crm(db, clock=FixedClock(T0 + timedelta(hours=1)))
            nadia = await crm.invites.redeem(code="old-code", telegram_id=300, name="Nadia")
            assert (nadia.role.value, nadia.extensions) == ("seller", ())
            olga = await crm.users.identify(100)
            prefs = await crm.followups.preferences(actor=olga)
            assert (prefs.morning_plan_enabled, prefs.morning_time) == (True, None)
        finally:
            await db.dispose()

    asyncio.run(go())
