"""Shared fixtures: a fresh, migrated database per test, on SQLite and (when configured) PostgreSQL.

Database tests take the ``database_url`` fixture (or ``db``/``crm``, built on it); each runs once per
backend (``tests.support.databases`` gives a test the one backend it is about). PostgreSQL runs when
``KANBOT_TEST_DATABASE_URL`` points at a server (each pytest-xdist worker gets its own database there);
otherwise those cases are skipped with the reason.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from crm_core.adapters import migrate
from crm_core.adapters.database import Database
from crm_core.adapters.tables import metadata
from crm_core.config import CrmConfig
from crm_core.ports import FixedClock
from crm_core.services import Crm

# Property tests run a bounded number of examples and no per-example deadline: CI machines are shared
# and slow at times, and a deadline there reports the machine, not the code.
settings.register_profile(
    "kanbot", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("kanbot")

# The emulator, a fake Asterisk, the database proxy and headless Chromium, for whichever folder needs them.
pytest_plugins = ["tests.support.fixtures"]

PG_ENV = "KANBOT_TEST_DATABASE_URL"
PG_SKIP = f"{PG_ENV} is not set: the PostgreSQL variant of this test was skipped"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


# Whole folders whose tests start real `kanbot` processes or play faults: `make test-fast` leaves them out.
SLOW_FOLDERS = {"ops", "reliability"}
TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` what starts processes or a browser: the slow folders and every browser test."""
    for item in items:
        folder = item.path.relative_to(TESTS).parts[0] if item.path.is_relative_to(TESTS) else ""
        if folder in SLOW_FOLDERS or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once; each test gets a copy of it."""
    path = tmp_path_factory.mktemp("template") / "kanbot.db"

    async def build() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await migrate.upgrade(db)
        await db.dispose()

    asyncio.run(build())
    return path


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A migrated PostgreSQL database of this test process (created on the server from the env URL).

    Its name carries the process id, so test runs side by side never share a database; it is
    dropped when the session ends.
    """
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP)
    url = make_url(base)
    name = f"kanbot_test_{_worker()}_{os.getpid()}"

    async def admin(*statements: str) -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
        await engine.dispose()

    async def build() -> None:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
        db = Database(url.set(database=name).render_as_string(hide_password=False))
        await migrate.upgrade(db)
        await db.dispose()

    asyncio.run(build())
    yield url.set(database=name).render_as_string(hide_password=False)
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate(url: str) -> None:
    engine = create_async_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, fully migrated database, on each backend in turn."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "kanbot.db"
        shutil.copyfile(template, target)
        yield f"sqlite+aiosqlite:///{target}"
    else:
        url = request.getfixturevalue("postgres_server_url")
        asyncio.run(_truncate(url))
        yield url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def crm_config() -> CrmConfig:
    return CrmConfig(default_region="RU", default_currency="RUB")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def crm(db: Database, clock: FixedClock, crm_config: CrmConfig) -> Crm:
    crm = Crm(db, clock=clock, config=crm_config)
    await crm.pipelines.seed_defaults()
    return crm
