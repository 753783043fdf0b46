"""PostgreSQL advisory locks: each job its own key, so an upgrade and the digest never wait on each other."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from sqlalchemy import text

from crm_core.adapters import migrate
from crm_core.adapters.locks import LIVENESS_CLASS, AdvisoryLock
from crm_core.services import Crm
from kanbot.scheduler import singleton

GUARD_S = 60  # not a timing check: only so that a test that would hang forever fails instead


def test_every_advisory_lock_has_a_key_of_its_own() -> None:
    keys = [int(lock) for lock in AdvisoryLock]
    assert len(set(keys)) == len(keys) == 3
    assert all(0 < key < 2**31 for key in keys)  # a bigint key, positive and readable in pg_locks


async def test_an_upgrade_runs_while_the_digest_tick_holds_its_lock(crm: Crm) -> None:
    async with singleton(crm, AdvisoryLock.DIGEST) as mine:
        assert mine
        await asyncio.wait_for(migrate.upgrade(crm.db), timeout=GUARD_S)
    assert await migrate.is_current(crm.db)


async def test_the_digest_tick_runs_while_an_upgrade_holds_its_lock(crm: Crm) -> None:
    async with crm.db.engine.connect() as upgrading:
        if not crm.db.is_sqlite:
            await upgrading.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(AdvisoryLock.MIGRATIONS)}
            )
        async with singleton(crm, AdvisoryLock.DIGEST) as mine:
            assert mine
        await upgrading.rollback()


def test_every_advisory_lock_taken_names_its_key_in_the_locks_module() -> None:
    root = Path(__file__).resolve().parents[2]
    taking = re.compile(r"pg_(try_)?advisory_(xact_)?lock")
    takers = sorted(
        str(path.relative_to(root))
        for package in ("crm_core", "bot", "telephony_bridge", "kanbot")
        for path in (root / package).rglob("*.py")
        if taking.search(path.read_text())
    )
    assert takers == [
        "crm_core/adapters/liveness.py",
        "crm_core/adapters/migrate.py",
        "kanbot/leader.py",
        "kanbot/scheduler.py",
    ]
    for taker in takers:
        assert "crm_core.adapters.locks import" in (root / taker).read_text(), taker
    assert LIVENESS_CLASS not in {int(lock) for lock in AdvisoryLock}  # apart anyway: a two-key lock
