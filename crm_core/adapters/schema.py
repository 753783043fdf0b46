"""Whether a database's schema is the code's, read without Alembic: a running Kanbot never migrates,
so it does not import the migration machinery (``migrate``) only to compare two revision ids."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import text

from crm_core.adapters.database import Database

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_REVISION = re.compile(r"^revision\s*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")
_HAS_VERSION_TABLE = {
    "sqlite": "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'",
    "postgresql": "SELECT count(*) FROM pg_class WHERE oid = to_regclass('alembic_version')",
}


@cache
def head_revisions() -> frozenset[str]:
    """The newest migrations: those no other migration revises (what ``migrate.head_revisions`` says)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        if revision is None:
            continue
        revisions.add(revision.group(1))
        down = _DOWN_REVISION.search(source)
        if down is not None:
            revised.update(_QUOTED.findall(down.group(1)))
    return frozenset(revisions - revised)


async def is_current(db: Database) -> bool:
    """Whether the database's schema is at the newest migration (False when it has none yet)."""
    async with db.engine.connect() as conn:
        if not await conn.scalar(text(_HAS_VERSION_TABLE[conn.dialect.name])):
            return False
        versions = {row[0] for row in await conn.execute(text("SELECT version_num FROM alembic_version"))}
    return versions == head_revisions()
