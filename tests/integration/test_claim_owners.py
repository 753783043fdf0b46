"""The handled-updates ledger knows who is working on an update: a claim whose process is gone is
taken over at once, one whose process lives is left alone, on both databases."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from crm_core.adapters.database import Database
from crm_core.adapters.tables import processed
from crm_core.config import CrmConfig
from crm_core.ports import FixedClock
from crm_core.services.conversations import Claim, Ledger

KEY = "u:700001:42"
WINDOW = timedelta(seconds=10)


@pytest.fixture
async def other(database_url: str) -> AsyncIterator[Database]:
    """Another Kanbot process on the same database."""
    database = Database(database_url)
    yield database
    await database.dispose()


def ledger(db: Database, clock: FixedClock, crm_config: CrmConfig) -> Ledger:
    return Ledger(db, clock, crm_config)


async def arrive(at: Ledger, *, held: bool = False) -> Claim:
    return (await at.arrive(KEY, telegram_id=2001, window=WINDOW, prefix="u:", held=held)).claim


async def die(db: Database) -> None:
    """What ``kill -9`` does to a process's hold on life: the kernel closes its files and sockets."""
    liveness = db.liveness
    if liveness._file is not None:
        os.close(liveness._file)  # the lock file stays behind, unlocked
        liveness._file = None
    if liveness._conn is not None:
        liveness._driver.terminate()  # the socket closed, no goodbye to the server
        with contextlib.suppress(Exception):
            await liveness._conn.close()
        liveness._conn = liveness._driver = None


async def test_a_claim_whose_process_died_is_taken_over_at_once(
    db: Database, other: Database, clock: FixedClock, crm_config: CrmConfig
) -> None:
    assert await arrive(ledger(other, clock, crm_config)) is Claim.NEW
    await die(other)
    assert await arrive(ledger(db, clock, crm_config)) is Claim.NEW  # no lease waited out
    assert await arrive(ledger(other, clock, crm_config)) is Claim.DUPLICATE  # and only once


async def test_a_claim_whose_process_lives_is_left_to_it(
    db: Database, other: Database, clock: FixedClock, crm_config: CrmConfig
) -> None:
    assert await arrive(ledger(other, clock, crm_config)) is Claim.NEW
    assert await arrive(ledger(db, clock, crm_config)) is Claim.DUPLICATE
    assert await arrive(ledger(db, clock, crm_config), held=True) is Claim.DUPLICATE  # not its claim


async def test_a_redelivery_while_this_process_works_on_it_is_a_duplicate_but_its_own_retry_is_not(
    db: Database, clock: FixedClock, crm_config: CrmConfig
) -> None:
    here = ledger(db, clock, crm_config)
    assert await arrive(here) is Claim.NEW
    assert await arrive(here) is Claim.DUPLICATE
    assert await arrive(here, held=True) is Claim.NEW


async def test_a_claim_from_before_owners_were_recorded_waits_for_its_lease(
    db: Database, other: Database, clock: FixedClock, crm_config: CrmConfig
) -> None:
    assert await arrive(ledger(other, clock, crm_config)) is Claim.NEW
    async with db.engine.begin() as conn:
        await conn.execute(update(processed).where(processed.c.key == KEY).values(owner=None))
    await die(other)
    assert await arrive(ledger(db, clock, crm_config)) is Claim.DUPLICATE
    later = FixedClock(clock.now() + timedelta(seconds=61))
    assert await arrive(ledger(db, later, crm_config)) is Claim.NEW


async def test_a_finished_update_is_never_done_again_even_when_its_process_died(
    db: Database, other: Database, clock: FixedClock, crm_config: CrmConfig
) -> None:
    there = ledger(other, clock, crm_config)
    assert await arrive(there) is Claim.NEW
    await there.finish(KEY)
    await die(other)
    assert await arrive(ledger(db, clock, crm_config)) is Claim.DUPLICATE
