"""Support for the upgrade tests: an empty database on each backend, and an old schema holding old rows
upgraded to the newest one."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from crm_core.adapters import migrate
from crm_core.adapters.database import Database
from tests.conftest import PG_ENV, PG_SKIP


def revision_before(revision: str) -> str:
    """The schema just before ``revision`` (whatever it follows once merged)."""
    return str(ScriptDirectory.from_config(migrate.alembic_config()).get_revision(revision).down_revision)


async def admin(url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE)."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


def empty_database(request: pytest.FixtureRequest, tmp_path: Path, label: str) -> Iterator[str]:
    """For a fixture parametrized over the backends: the URL of a database with no schema at all, a
    fresh PostgreSQL database named after ``label`` (dropped afterwards) or a new SQLite file."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / f'{label}.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP)
    name = f"kanbot_{label}_{os.getpid()}"
    server = make_url(base).render_as_string(hide_password=False)
    asyncio.run(admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(admin(server, f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    asyncio.run(admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def upgrade_old_rows(url: str, before: str, rows: list[str], times: dict[str, datetime]) -> Database:
    """Create the schema at revision ``before``, insert ``rows`` (``:name`` parameters from ``times``),
    then upgrade to the newest schema, as an operator's ``kanbot db upgrade`` does."""
    db = Database(url)
    await migrate.upgrade(db, before)
    async with db.engine.begin() as conn:
        for statement in rows:
            await conn.execute(
                text(statement).bindparams(**{k: v for k, v in times.items() if f":{k}" in statement})
            )
    await migrate.upgrade(db)
    return db
