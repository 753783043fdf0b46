"""Upgrading a database of the version before reopening had its rule: closed deals learn where they
reopen, and the open tasks they kept are cancelled by their close, in their history."""

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
from crm_core.domain.deals import EventKind
from crm_core.services import Crm
from tests.conftest import BACKENDS, PG_ENV, PG_SKIP, T0

# The schema just before this upgrade (whatever it follows once merged).
BEFORE = str(ScriptDirectory.from_config(migrate.alembic_config()).get_revision("0008").down_revision)
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
    name = f"kanbot_upgrade_0008_{os.getpid()}"
    server = make_url(base).render_as_string(hide_password=False)
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# Rows as the version before wrote them: a deal lost from Opportunity with an open task, a deal
# imported as won (no close in its history), an open deal with an open task; stages 1-4 are
# Unsorted, Opportunity, Won, Lost.
OLD_ROWS = [
    "INSERT INTO pipelines (id, name, is_default) VALUES (1, 'Sales', true)",
    "INSERT INTO stages (id, pipeline_id, name, position, kind, playbook, probability) VALUES "
    "(1, 1, 'Unsorted', 1, 'inbox', '', 5), (2, 1, 'Opportunity', 2, 'open', '', 15), "
    "(3, 1, 'Won', 3, 'won', '', 100), (4, 1, 'Lost', 4, 'lost', '', 0)",
    "INSERT INTO users (id, telegram_id, name, role, created_at) VALUES (1, 201, 'Alice', 'seller', :t0)",
    "INSERT INTO deals (id, pipeline_id, title, title_key, amount, currency, stage_id, owner_id, source, "
    "priority, created_at, stage_entered_at, last_activity_at, closed_at, lost_reason, version) VALUES "
    "(1, 1, 'Lost one', 'lost one', NULL, 'RUB', 4, 1, 'manual', 'normal', :t0, :t2, :t2, :t2, 'Price', 3), "
    "(2, 1, 'Imported won', 'imported won', NULL, 'RUB', 3, 1, 'import', 'normal', :t0, :t0, :t0, :t0, "
    "NULL, 1), "
    "(3, 1, 'Open one', 'open one', NULL, 'RUB', 2, 1, 'manual', 'normal', :t0, :t0, :t0, NULL, NULL, 1)",
    "INSERT INTO deal_events (deal_id, kind, at, actor_id, from_stage_id, to_stage_id, data) VALUES "
    "(1, 'created', :t0, 1, NULL, 1, '{}'), (1, 'moved', :t1, 1, 1, 2, '{}'), "
    "(1, 'lost', :t2, 1, 2, 4, '{\"reason\": \"Price\"}'), (2, 'created', :t0, NULL, NULL, 3, '{}'), "
    "(3, 'created', :t0, 1, NULL, 2, '{}')",
    "INSERT INTO tasks (id, deal_id, assignee_id, due_at, text, kind, created_at, created_by_id) VALUES "
    "(1, 1, 1, :t3, 'Call Ivan', 'custom', :t1, 1), (2, 3, 1, :t3, 'Send the offer', 'custom', :t1, 1)",
]


async def _upgrade_an_old_database(url: str) -> Crm:
    db = Database(url)
    await migrate.upgrade(db, BEFORE)
    times = {"t0": T0, "t1": T0 + H, "t2": T0 + 2 * H, "t3": T0 + 5 * H}
    async with db.engine.begin() as conn:
        for statement in OLD_ROWS:
            await conn.execute(
                text(statement).bindparams(**{k: v for k, v in times.items() if f":{k}" in statement})
            )
    await migrate.upgrade(db)
    return Crm(db)


def test_closed_deals_learn_where_they_reopen_and_their_open_tasks_are_cancelled(empty_url: str) -> None:
    async def check() -> None:
        crm = await _upgrade_an_old_database(empty_url)
        try:
            async with crm.db.uow(write=False) as uow:
                lost, imported, still_open = [await uow.deals.get(i) for i in (1, 2, 3)]
                pipeline = await uow.pipelines.default()
                history = await uow.events.history(1)
                tasks = [await uow.tasks.get(i) for i in (1, 2)]
            assert lost is not None and imported is not None and still_open is not None
            assert pipeline is not None
            assert (lost.closed_from_stage_id, lost.reopen_stage(pipeline).name) == (2, "Opportunity")
            assert (imported.closed_from_stage_id, imported.reopen_stage(pipeline).name) == (1, "Unsorted")
            assert still_open.closed_from_stage_id is None
            cancelled, kept = tasks
            assert cancelled is not None and kept is not None
            assert (cancelled.done_at, cancelled.cancelled_at, cancelled.is_open) == (
                T0 + 2 * H,
                T0 + 2 * H,
                False,
            )
            assert (kept.done_at, kept.cancelled_at, kept.is_open) == (None, None, True)
            assert [(e.kind, e.at, e.data) for e in history[-1:]] == [
                (
                    EventKind.TASK_CANCELLED,
                    T0 + 2 * H,
                    {"task_id": 1, "text": "Call Ivan", "closed_as": "lost"},
                )
            ]
            assert await migrate.is_current(crm.db)
        finally:
            await crm.db.dispose()

    asyncio.run(check())
