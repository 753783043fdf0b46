"""Upgrading a database from before the funnel had a version: its funnel, seeded then, is read and
cached after the upgrade, and a change made afterwards is seen by a process holding the old one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm_core.adapters.database import Database
from crm_core.ports import FixedClock
from crm_core.services import Crm
from crm_core.services.funnel import funnel_spec_from_document
from tests.conftest import BACKENDS, T0
from tests.upgrades import empty_database, revision_before, upgrade_old_rows

BEFORE = revision_before("0019")


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from empty_database(request, tmp_path, "upgrade_0019")


OLD_ROWS = [
    "INSERT INTO pipelines (id, name, is_default) VALUES (1, 'Sales', true)",
    "INSERT INTO stages (id, pipeline_id, name, position, kind, playbook, probability) "
    "VALUES (1, 1, 'New', 1, 'inbox', '', 0), (2, 1, 'Talking', 2, 'open', '', 50), "
    "(3, 1, 'Won', 3, 'won', '', 100), (4, 1, 'Lost', 4, 'lost', '', 0)",
]


def test_a_funnel_from_before_the_upgrade_is_cached_and_its_changes_seen(empty_url: str) -> None:
    async def check() -> None:
        crm = Crm(await upgrade_old_rows(empty_url, BEFORE, OLD_ROWS, {}), clock=FixedClock(T0))
        other = Database(empty_url)
        try:
            before = await crm.pipelines.default()
            assert [s.name for s in before.stages] == ["New", "Talking", "Won", "Lost"]
            assert await crm.pipelines.default() is before  # kept for the process
            document = await Crm(other, clock=FixedClock(T0)).pipelines.document()
            document["stages"][1]["name"] = "Negotiation"
            del document["lost_reasons"]  # none were kept then
            await Crm(other, clock=FixedClock(T0)).pipelines.apply(funnel_spec_from_document(document))
            after = await crm.pipelines.default()
            assert [s.name for s in after.stages] == ["New", "Negotiation", "Won", "Lost"]
        finally:
            await other.dispose()
            await crm.db.dispose()

    asyncio.run(check())
