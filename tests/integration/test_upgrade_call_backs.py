"""Upgrading a database of the version before call-backs carried their number: each call-back learns
the number its text names (else its deal's contact's), with no attempts yet."""

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
from crm_core.services import Crm
from tests.conftest import BACKENDS, PG_ENV, PG_SKIP, T0

# The schema just before this upgrade (whatever it follows once merged).
BEFORE = str(ScriptDirectory.from_config(migrate.alembic_config()).get_revision("0012").down_revision)
H = timedelta(hours=1)


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
    name = f"kanbot_upgrade_0012_{os.getpid()}"
    server = make_url(base).render_as_string(hide_password=False)
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# Rows as the version before wrote them: a call-back with the number in its text, an old one whose
# text names none (its deal's contact has the number), and a custom task.
OLD_ROWS = [
    "INSERT INTO pipelines (id, name, is_default) VALUES (1, 'Sales', true)",
    "INSERT INTO stages (id, pipeline_id, name, position, kind, playbook, probability) VALUES "
    "(1, 1, 'Unsorted', 1, 'inbox', '', 5)",
    "INSERT INTO users (id, telegram_id, name, role, created_at) VALUES (1, 201, 'Alice', 'seller', :t0)",
    "INSERT INTO contacts (id, name, phone, company, created_at) VALUES (1, NULL, '+74959876543', NULL, :t0)",
    "INSERT INTO deals (id, pipeline_id, title, title_key, contact_id, currency, stage_id, owner_id, source, "
    "priority, created_at, stage_entered_at, last_activity_at, version) VALUES "
    "(1, 1, 'A caller', 'a caller', 1, 'RUB', 1, 1, 'missed_call', 'normal', :t0, :t0, :t0, 1)",
    "INSERT INTO tasks (id, deal_id, assignee_id, due_at, text, kind, created_at) VALUES "
    "(1, 1, 1, :t1, 'Call back +7 495 123-45-67', 'call_back', :t0), "
    "(2, 1, 1, :t1, 'Call back', 'call_back', :t0), "
    "(3, 1, 1, :t1, 'Send the offer', 'custom', :t0)",
]


async def _upgrade_an_old_database(url: str) -> Crm:
    db = Database(url)
    await migrate.upgrade(db, BEFORE)
    times = {"t0": T0, "t1": T0 + H}
    async with db.engine.begin() as conn:
        for statement in OLD_ROWS:
            await conn.execute(
                text(statement).bindparams(**{k: v for k, v in times.items() if f":{k}" in statement})
            )
    await migrate.upgrade(db)
    return Crm(db)


def test_call_backs_learn_their_number_from_their_text_or_their_contact(empty_url: str) -> None:
    async def check() -> None:
        crm = await _upgrade_an_old_database(empty_url)
        try:
            async with crm.db.uow(write=False) as uow:
                tasks = [await uow.tasks.get(i) for i in (1, 2, 3)]
            assert [(t.phone, t.attempts) for t in tasks if t is not None] == [
                ("+74951234567", 0),
                ("+74959876543", 0),
                (None, 0),
            ]
            assert await migrate.is_current(crm.db)
        finally:
            await crm.db.dispose()

    asyncio.run(check())
