"""The composition root: builds settings, the database and the CRM, and hands them to the edges."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from crm_core.adapters import schema
from crm_core.adapters.database import Database
from crm_core.ports import Clock, RecordingFiles
from crm_core.services import Crm
from kanbot.settings import CoreSettings


class NotReady(Exception):
    """The database is missing or behind the code's migrations."""


@asynccontextmanager
async def open_crm(
    settings: CoreSettings | None = None,
    *,
    clock: Clock | None = None,
    upgrade: bool = False,
    recording_files: RecordingFiles | None = None,
) -> AsyncIterator[Crm]:
    """The CRM over the configured database; ``upgrade=True`` migrates it first; ``recording_files``:
    where the calls' recordings are kept (for the commands that fetch or delete them)."""
    settings = settings or CoreSettings()
    config = settings.crm_config()
    db = Database(settings.database_url)
    try:
        if upgrade:
            from crm_core.adapters import migrate  # Alembic, only for the commands that migrate

            await migrate.upgrade(db)
        elif not await schema.is_current(db):
            raise NotReady(
                "The database is not set up or is out of date: run `kanbot init` (or `kanbot db upgrade`)."
            )
        yield Crm(db, clock=clock, config=config, recording_files=recording_files)
    finally:
        await db.dispose()
