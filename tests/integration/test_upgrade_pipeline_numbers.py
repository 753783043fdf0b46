"""Migration 0020 on a database from before it: its one pipeline is the default, first, with no
numbers; numbers added afterwards route calls, and a process holding the funnel sees them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm_core.adapters.database import Database
from crm_core.ports import FixedClock
from crm_core.services import Crm
from crm_core.services.funnel import funnels_spec_from_document
from tests.conftest import BACKENDS, T0
from tests.upgrades import empty_database, revision_before, upgrade_old_rows

BEFORE = revision_before("0020")


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from empty_database(request, tmp_path, "upgrade_0020")


OLD_ROWS = [  # ids from the sequences, as the application gave them (a new pipeline follows)
    "INSERT INTO pipelines (name, is_default) VALUES ('Sales', true)",
    "INSERT INTO stages (pipeline_id, name, position, kind, playbook, probability) "
    "VALUES (1, 'New', 1, 'inbox', '', 0), (1, 'Talking', 2, 'open', '', 50), "
    "(1, 'Won', 3, 'won', '', 100), (1, 'Lost', 4, 'lost', '', 0)",
]


def test_the_pipeline_from_before_the_upgrade_gets_numbers_seen_by_a_process_holding_it(
    empty_url: str,
) -> None:
    async def check() -> None:
        crm = Crm(await upgrade_old_rows(empty_url, BEFORE, OLD_ROWS, {}), clock=FixedClock(T0))
        other = Database(empty_url)
        try:
            before = await crm.pipelines.list()
            assert [(p.name, p.is_default, p.numbers) for p in before] == [("Sales", True, ())]
            assert (await crm.pipelines.for_did("+74951230001")).name == "Sales"
            admin = Crm(other, clock=FixedClock(T0))
            document = await admin.pipelines.document()
            assert "pipelines" not in document and document["pipeline"] == "Sales"
            del document["lost_reasons"]  # none were kept then
            two = {
                "pipelines": [
                    document | {"default": True},
                    {
                        "pipeline": "Renewals",
                        "numbers": ["+74951230001"],
                        "stages": [
                            {"name": "New renewal", "kind": "inbox"},
                            {"name": "Renewed", "kind": "won"},
                            {"name": "Churned", "kind": "lost"},
                        ],
                    },
                ]
            }
            await admin.pipelines.apply(funnels_spec_from_document(two))
            assert (await crm.pipelines.for_did("+74951230001")).name == "Renewals"
            assert [p.name for p in await crm.pipelines.list()] == ["Sales", "Renewals"]
        finally:
            await other.dispose()
            await crm.db.dispose()

    asyncio.run(check())
