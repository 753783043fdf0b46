"""Schema migrations (Alembic): the only way a Kanbot schema is created or changed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from crm_core.adapters.database import Database
from crm_core.adapters.locks import AdvisoryLock

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision``; a no-op when it is there already."""

    def _upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Several processes starting at once (docker-compose up) would each create the schema;
            # the others wait here, then find it at head. (SQLite's BEGIN IMMEDIATE does the same.)
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(AdvisoryLock.MIGRATIONS)}
            )
        await conn.run_sync(_upgrade)


async def current_revisions(db: Database) -> set[str]:
    def _current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


async def is_current(db: Database) -> bool:
    """Whether the database's schema is at the newest migration."""
    return await current_revisions(db) == head_revisions()
