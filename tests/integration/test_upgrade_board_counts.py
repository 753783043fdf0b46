"""Upgrading a database from before the board's counters and the search indexes: both are filled from
the deals and contacts already there, and kept from then on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from crm_core.adapters import migrate
from crm_core.adapters.database import Database
from crm_core.services import Crm
from tests.conftest import BACKENDS, T0
from tests.upgrades import empty_database, revision_before

BEFORE = revision_before("0011")


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from empty_database(request, tmp_path, "upgrade_0011")


# Stages 1-4 are Unsorted, Opportunity, Won, Lost; Alice owns two deals, one is unassigned.
OLD_ROWS = [
    "INSERT INTO pipelines (id, name, is_default) VALUES (1, 'Sales', true)",
    "INSERT INTO stages (id, pipeline_id, name, position, kind, playbook, probability) VALUES "
    "(1, 1, 'Unsorted', 1, 'inbox', '', 5), (2, 1, 'Opportunity', 2, 'open', '', 15), "
    "(3, 1, 'Won', 3, 'won', '', 100), (4, 1, 'Lost', 4, 'lost', '', 0)",
    "INSERT INTO users (id, telegram_id, name, role, created_at) VALUES "
    "(1, 201, 'Alice', 'seller', :t0), (2, 100, 'Olga', 'boss', :t0)",
    "INSERT INTO contacts (id, name, name_key, phone, phone_rev, created_at) VALUES "
    "(1, 'Ivan Petrov', 'ivan petrov', '+74951234567', '7654321594', :t0)",
    "INSERT INTO deals (id, pipeline_id, title, title_key, contact_id, amount, currency, stage_id, owner_id, "
    "source, priority, created_at, stage_entered_at, last_activity_at, version) VALUES "
    "(1, 1, 'Boiler order', 'boiler order', 1, :a1, 'RUB', 2, 1, 'manual', 'normal', :t0, :t0, :t0, 1), "
    "(2, 1, 'Windows', 'windows', NULL, :a2, 'RUB', 2, 1, 'manual', 'normal', :t0, :t0, :t0, 1), "
    "(3, 1, 'Walk-in', 'walk-in', NULL, NULL, 'RUB', 1, NULL, 'manual', 'normal', :t0, :t0, :t0, 1)",
]


def test_the_board_and_search_work_on_the_deals_there_were(empty_url: str) -> None:
    async def check() -> None:
        db = Database(empty_url)
        try:
            await migrate.upgrade(db, BEFORE)
            # Money as each backend keeps it: cents on SQLite, numeric on PostgreSQL.
            a1, a2 = (10050, 200) if db.is_sqlite else (Decimal("100.50"), Decimal("2.00"))
            values = {"t0": T0, "a1": a1, "a2": a2}
            async with db.engine.begin() as conn:
                for statement in OLD_ROWS:
                    await conn.execute(
                        text(statement).bindparams(
                            **{k: v for k, v in values.items() if f":{k}" in statement}
                        )
                    )
                if not db.is_sqlite:  # the rows above were given their ids
                    await conn.execute(text("SELECT setval(pg_get_serial_sequence('deals', 'id'), 3)"))
            await migrate.upgrade(db)
            crm = Crm(db)
            boss = await crm.users.by_telegram_id(100)
            assert boss is not None
            board = await crm.deals.board(actor=boss)
            assert {c.stage.name: (c.count, c.amount) for c in board.columns if c.count} == {
                "Unsorted": (1, Decimal("0.00")),
                "Opportunity": (2, Decimal("102.50")),
            }
            assert [d.title for d in await crm.deals.find(query="petrov", actor=boss)] == ["Boiler order"]
            assert [d.title for d in await crm.deals.find(query="indow", actor=boss)] == ["Windows"]
            assert [d.title for d in await crm.deals.find(query="4567", actor=boss)] == ["Boiler order"]
            await crm.deals.create(actor=boss, title="Windows too", amount="1")
            assert [d.title for d in await crm.deals.find(query="windows", actor=boss)] == [
                "Windows too",
                "Windows",
            ]
            assert await migrate.is_current(db)
        finally:
            await db.dispose()

    asyncio.run(check())
