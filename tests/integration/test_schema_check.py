"""A running Kanbot tells a current schema from an old or missing one without importing Alembic."""

from __future__ import annotations

from pathlib import Path

from crm_core.adapters import migrate, schema
from crm_core.adapters.database import Database


def test_the_newest_migrations_are_read_as_alembic_reads_them() -> None:
    assert schema.head_revisions() == migrate.head_revisions()


async def test_a_migrated_database_is_current_an_older_one_is_not(db: Database) -> None:
    assert await schema.is_current(db)
    [head] = schema.head_revisions()
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    try:
        assert not await schema.is_current(db)
    finally:  # the PostgreSQL database is this test process's for every later test: put it back
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{head}'")  # noqa: S608
    assert await schema.is_current(db)


async def test_an_empty_database_is_not_current(tmp_path: Path) -> None:
    empty = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        assert not await schema.is_current(empty)
    finally:
        await empty.dispose()
