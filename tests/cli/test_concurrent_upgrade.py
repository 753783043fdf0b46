"""Several processes starting at once (docker-compose up) each run `kanbot db upgrade` on a new database."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm_core.adapters import migrate
from crm_core.adapters.database import Database
from tests.conftest import BACKENDS
from tests.upgrades import empty_database

pytestmark = pytest.mark.slow  # several `kanbot` processes at once

KANBOT = shutil.which("kanbot", path=str(Path(sys.executable).parent)) or "kanbot"
PROCESSES = 4


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, as a first start finds it."""
    yield from empty_database(request, tmp_path, "first_start")


async def _upgrade_at_once(url: str, cwd: Path) -> list[tuple[int, str]]:
    env = {**os.environ, "KANBOT_DATABASE_URL": url}
    processes = [
        await asyncio.create_subprocess_exec(
            KANBOT,
            "db",
            "upgrade",
            env=env,
            cwd=cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(PROCESSES)
    ]
    outputs = [await p.communicate() for p in processes]
    return [(p.returncode or 0, out.decode()) for p, (out, _) in zip(processes, outputs, strict=True)]


async def _is_current(url: str) -> bool:
    db = Database(url)
    try:
        return await migrate.is_current(db)
    finally:
        await db.dispose()


def test_processes_upgrading_a_new_database_at_once_all_start_and_create_the_schema_once(
    empty_database_url: str, tmp_path: Path
) -> None:
    results = asyncio.run(_upgrade_at_once(empty_database_url, tmp_path))
    assert [code for code, _ in results] == [0] * PROCESSES, results
    assert asyncio.run(_is_current(empty_database_url))
