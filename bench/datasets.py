"""Benchmark databases: built once by the seeded generator, cached, and copied for each run that writes.

A dataset is named by a hash of its ``Spec``, the generator's version and the schema's migration head:
a SQLite file ``bench/data/<name>-<hash>.db``, or a PostgreSQL database ``kanbot_bench_<name>_<hash>``
on the server of ``KANBOT_TEST_DATABASE_URL``. Either is built under a temporary name and renamed when
complete, so an interrupted build is never reused; older builds of the same name are removed. The
schema comes from the migrations and the team and funnel from the services; the bulk rows (contacts,
deals, history) go in with executemany in one transaction on SQLite and COPY on PostgreSQL, with the
three tables' secondary indexes dropped during the load and recreated after it from their own DDL.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import data_dir, work_dir
from bench.data_gen import (
    CONTACT_COLUMNS,
    DEAL_COLUMNS,
    EVENT_COLUMNS,
    NOW,
    Chunk,
    Generator,
    Spec,
    StageInfo,
)
from crm_core.adapters import migrate
from crm_core.adapters.database import Database
from crm_core.domain.users import Role
from crm_core.ports import FixedClock
from crm_core.services import Crm

log = logging.getLogger("bench")

PG_ENV = "KANBOT_TEST_DATABASE_URL"
BOSS_TELEGRAM_ID = 1000
BULK_TABLES = ("contacts", "deals", "deal_events")
_DEAL_TIMES = (11, 12, 13, 14, 16, 17)  # the datetime columns of a deal row
# The board's counters, as migration 0011 fills them (their triggers are off while the bulk rows load).
FILL_COUNTS = """
INSERT INTO deal_counts (stage_id, owner_key, slot, deals, amount)
SELECT stage_id, coalesce(owner_id, 0), id % 4, count(*), coalesce(sum(amount), 0)
FROM deals GROUP BY stage_id, coalesce(owner_id, 0), id % 4
"""


def seller_telegram_id(n: int) -> int:
    """The Telegram id of seller ``n`` (1-based)."""
    return 2000 + n


def seller_extension(n: int) -> str:
    return str(100 + n)


@dataclass(frozen=True)
class Dataset:
    """A built dataset: where it is (read it; copy it with ``working_copy`` to write) and what it holds."""

    name: str
    backend: str  # "sqlite" or "postgresql"
    url: str
    spec: Spec
    key: str


def dataset_key(spec: Spec, backend: str) -> str:
    fields = spec.key_fields() | {"schema": sorted(migrate.head_revisions()), "backend": backend}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def postgres_server() -> str | None:
    """The PostgreSQL server URL from the environment, or None (those benchmarks are then skipped)."""
    return os.environ.get(PG_ENV) or None


async def dataset(name: str, spec: Spec, backend: str) -> Dataset:
    """The dataset, built first if it is not in the cache."""
    key = dataset_key(spec, backend)
    if backend == "sqlite":
        return Dataset(name, backend, sqlite_url(await _sqlite(name, spec, key)), spec, key)
    server = postgres_server()
    assert server is not None, f"{PG_ENV} is not set"
    return Dataset(name, backend, await _postgres(name, spec, key, server), spec, key)


# -- the team and the funnel, through the services ---------------------------------------------------


async def _seed(url: str, spec: Spec) -> tuple[int, list[StageInfo], list[int]]:
    db = Database(url)
    try:
        await migrate.upgrade(db)
        crm = Crm(db, clock=FixedClock(NOW - timedelta(days=spec.span_days + 1)))
        pipeline = await crm.pipelines.seed_defaults()
        await crm.users.add(telegram_id=BOSS_TELEGRAM_ID, name="Olga Boss", role=Role.BOSS)
        sellers = []
        for n in range(1, spec.sellers + 1):
            user = await crm.users.add(
                telegram_id=seller_telegram_id(n),
                name=f"Seller {n}",
                role=Role.SELLER,
                extensions=(seller_extension(n),),
            )
            sellers.append(user.id)
        stages = [
            StageInfo(
                s.id,
                s.position,
                s.kind.value,
                int(s.follow_up_after.total_seconds()) if s.follow_up_after else None,
            )
            for s in pipeline.stages
        ]
        return pipeline.id, stages, sellers
    finally:
        await db.dispose()


def _progress(name: str, backend: str) -> Callable[[int, int], None]:
    started = time.monotonic()

    def report(done: int, total: int) -> None:
        log.info("  %s (%s): %d/%d deals, %.0f s", name, backend, done, total, time.monotonic() - started)

    return report


# -- SQLite ------------------------------------------------------------------------------------------


async def _sqlite(name: str, spec: Spec, key: str) -> Path:
    folder = data_dir()
    final = folder / f"{name}-{key}.db"
    if final.exists():
        return final
    folder.mkdir(parents=True, exist_ok=True)
    older = re.compile(rf"{re.escape(name)}-[0-9a-f]{{12}}(\.building)?\.db(-wal|-shm|-journal)?")
    for old in folder.iterdir():
        if older.fullmatch(old.name):
            old.unlink()
    building = folder / f"{name}-{key}.building.db"
    log.info("building the %s dataset on SQLite (%d deals): once, then cached", name, spec.deals)
    pipeline_id, stages, sellers = await _seed(sqlite_url(building), spec)
    generator = Generator(spec, pipeline_id=pipeline_id, stages=stages, sellers=sellers)
    progress = _progress(name, "sqlite")
    conn = sqlite3.connect(building, isolation_level=None)
    try:
        for pragma in ("journal_mode=DELETE", "synchronous=OFF", "cache_size=-200000"):
            conn.execute(f"PRAGMA {pragma}")
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN {BULK_TABLES}"
        ).fetchall()
        triggers = conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN {BULK_TABLES}"
        ).fetchall()
        conn.execute("BEGIN")
        for index_name, _ in indexes:
            conn.execute(f'DROP INDEX "{index_name}"')
        for trigger_name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{trigger_name}"')
        done = 0
        for chunk in generator.chunks():
            _sqlite_insert(conn, chunk)
            done += len(chunk.deals)
            if done % 200_000 == 0:
                progress(done, spec.deals)
        for _, ddl in indexes + triggers:
            conn.execute(ddl)
        for fts in ("deals_fts", "contacts_fts"):  # what the triggers would have written
            conn.execute(f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')")
        conn.execute(FILL_COUNTS)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    building.rename(final)
    progress(spec.deals, spec.deals)
    return final


def _sqlite_insert(conn: sqlite3.Connection, chunk: Chunk) -> None:
    def stamp(value: Any) -> Any:
        return value.isoformat(" ", "microseconds") if isinstance(value, datetime) else value

    contacts = [(*c[:6], stamp(c[6])) for c in chunk.contacts]
    deals = [tuple(stamp(v) for v in d) for d in chunk.deals]
    events = [(*e[:3], stamp(e[3]), *e[4:]) for e in chunk.events]
    for table, columns, rows in (
        ("contacts", CONTACT_COLUMNS, contacts),
        ("deals", DEAL_COLUMNS, deals),
        ("deal_events", EVENT_COLUMNS, events),
    ):
        marks = ", ".join("?" for _ in columns)
        conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


# -- PostgreSQL --------------------------------------------------------------------------------------


def _pg_name(name: str, key: str) -> str:
    return f"kanbot_bench_{name.replace('-', '_')}_{key}"


def with_database(server: str, database: str) -> str:
    return make_url(server).set(database=database).render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def pg_admin(server: str, *statements: str) -> list[Any]:
    """Run statements outside a transaction on the server's own database; the last one's rows."""
    engine = create_async_engine(with_database(server, "postgres"), isolation_level="AUTOCOMMIT")
    rows: list[Any] = []
    try:
        async with engine.connect() as conn:
            for statement in statements:
                result = await conn.execute(text(statement))
                rows = list(result) if result.returns_rows else []
    finally:
        await engine.dispose()
    return rows


async def _postgres(name: str, spec: Spec, key: str, server: str) -> str:
    final = _pg_name(name, key)
    older = re.compile(re.escape(_pg_name(name, "")) + r"[0-9a-f]{12}(_building)?")
    existing = [r[0] for r in await pg_admin(server, "SELECT datname FROM pg_database")]
    if final in existing:
        return with_database(server, final)
    for old in (d for d in existing if older.fullmatch(d)):
        await pg_admin(server, f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
    building = final + "_building"
    log.info("building the %s dataset on PostgreSQL (%d deals): once, then cached", name, spec.deals)
    await pg_admin(server, f'CREATE DATABASE "{building}"')
    pipeline_id, stages, sellers = await _seed(with_database(server, building), spec)
    generator = Generator(spec, pipeline_id=pipeline_id, stages=stages, sellers=sellers)
    progress = _progress(name, "postgresql")
    conn = await asyncpg.connect(asyncpg_dsn(with_database(server, building)))
    try:
        await conn.execute("SET session_replication_role = replica")  # no foreign-key triggers while loading
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY($1::text[]) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            list(BULK_TABLES),
        )
        for row in indexes:
            await conn.execute(f'DROP INDEX "{row["indexname"]}"')
        done = 0
        for chunk in generator.chunks():
            await _pg_copy(conn, chunk)
            done += len(chunk.deals)
            if done % 200_000 == 0:
                progress(done, spec.deals)
        for row in indexes:
            await conn.execute(row["indexdef"])
        await conn.execute(FILL_COUNTS)  # the triggers that keep it were off while loading
        for table in BULK_TABLES:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    await pg_admin(server, f'ALTER DATABASE "{building}" RENAME TO "{final}"')
    progress(spec.deals, spec.deals)
    return with_database(server, final)


async def _pg_copy(conn: asyncpg.Connection, chunk: Chunk) -> None:
    def aware(value: Any) -> Any:
        return value.replace(tzinfo=UTC) if isinstance(value, datetime) else value

    contacts = [(*c[:6], aware(c[6])) for c in chunk.contacts]
    deals = []
    for d in chunk.deals:
        row = [aware(v) for v in d]
        row[5] = Decimal(row[5]).scaleb(-2) if row[5] is not None else None  # cents -> numeric(14, 2)
        deals.append(tuple(row))
    events = [(*e[:3], aware(e[3]), *e[4:]) for e in chunk.events]
    await conn.copy_records_to_table("contacts", records=contacts, columns=list(CONTACT_COLUMNS))
    await conn.copy_records_to_table("deals", records=deals, columns=list(DEAL_COLUMNS))
    await conn.copy_records_to_table("deal_events", records=events, columns=list(EVENT_COLUMNS))


# -- copies to write to ------------------------------------------------------------------------------


def _remove(paths: Iterable[Path]) -> None:
    """Files, and folders such as the ``-owners`` one Kanbot keeps beside a SQLite database."""
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


@contextlib.asynccontextmanager
async def working_copy(source: Dataset, label: str) -> AsyncIterator[str]:
    """A disposable copy of the dataset (a file copy; a database from it as a template)."""
    if source.backend == "sqlite":
        path = Path(make_url(source.url).database or "")
        work = work_dir() / f"{label}.db"
        work.parent.mkdir(parents=True, exist_ok=True)
        _remove(work.parent.glob(f"{label}.db*"))
        shutil.copyfile(path, work)
        try:
            yield sqlite_url(work)
        finally:
            _remove(work.parent.glob(f"{label}.db*"))
        return
    server = postgres_server()
    assert server is not None
    template = make_url(source.url).database
    copy = f"kanbot_bench_work_{label.replace('-', '_')}_{os.getpid()}"  # runs side by side do not meet
    await pg_admin(
        server,
        f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)',
        f'CREATE DATABASE "{copy}" TEMPLATE "{template}"',
    )
    try:
        yield with_database(server, copy)
    finally:
        await pg_admin(server, f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
