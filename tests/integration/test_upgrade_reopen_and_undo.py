"""Upgrading a database of the version before reopening had its rule: closed deals learn where they
reopen, and the open tasks they kept are cancelled by their close, in their history."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from crm_core.adapters import migrate
from crm_core.domain.history import EventKind
from crm_core.services import Crm
from tests.conftest import BACKENDS, T0
from tests.upgrades import empty_database, revision_before, upgrade_old_rows

BEFORE = revision_before("0008")
H = timedelta(hours=1)


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from empty_database(request, tmp_path, "upgrade_0008")


# Rows as the version before wrote them: a deal lost from Opportunity with an open task, a deal
# imported as won (no close in its history), an open deal with an open task; stages 1-4 are
# Unsorted, Opportunity, Won, Lost.
OLD_ROWS = [
    "INSERT INTO pipelines (id, name, is_default) VALUES (1, 'Sales', true)",
    "INSERT INTO stages (id, pipeline_id, name, position, kind, playbook, probability) VALUES "
    "(1, 1, 'Unsorted', 1, 'inbox', '', 5), (2, 1, 'Opportunity', 2, 'open', '', 15), "
    "(3, 1, 'Won', 3, 'won', '', 100), (4, 1, 'Lost', 4, 'lost', '', 0)",
    "INSERT INTO users (id, telegram_id, name, role, created_at) VALUES (1, 201, 'Alice', 'seller', :t0)",
    "INSERT INTO deals (id, pipeline_id, title, title_key, amount, currency, stage_id, owner_id, source, "
    "priority, created_at, stage_entered_at, last_activity_at, closed_at, lost_reason, version) VALUES "
    "(1, 1, 'Lost one', 'lost one', NULL, 'RUB', 4, 1, 'manual', 'normal', :t0, :t2, :t2, :t2, 'Price', 3), "
    "(2, 1, 'Imported won', 'imported won', NULL, 'RUB', 3, 1, 'import', 'normal', :t0, :t0, :t0, :t0, "
    "NULL, 1), "
    "(3, 1, 'Open one', 'open one', NULL, 'RUB', 2, 1, 'manual', 'normal', :t0, :t0, :t0, NULL, NULL, 1)",
    "INSERT INTO deal_events (deal_id, kind, at, actor_id, from_stage_id, to_stage_id, data) VALUES "
    "(1, 'created', :t0, 1, NULL, 1, '{}'), (1, 'moved', :t1, 1, 1, 2, '{}'), "
    "(1, 'lost', :t2, 1, 2, 4, '{\"reason\": \"Price\"}'), (2, 'created', :t0, NULL, NULL, 3, '{}'), "
    "(3, 'created', :t0, 1, NULL, 2, '{}')",
    "INSERT INTO tasks (id, deal_id, assignee_id, due_at, text, kind, created_at, created_by_id) VALUES "
    "(1, 1, 1, :t3, 'Call Ivan', 'custom', :t1, 1), (2, 3, 1, :t3, 'Send the offer', 'custom', :t1, 1)",
]


async def _upgrade_an_old_database(url: str) -> Crm:
    return Crm(
        await upgrade_old_rows(
            url, BEFORE, OLD_ROWS, {"t0": T0, "t1": T0 + H, "t2": T0 + 2 * H, "t3": T0 + 5 * H}
        )
    )


def test_closed_deals_learn_where_they_reopen_and_their_open_tasks_are_cancelled(empty_url: str) -> None:
    async def check() -> None:
        crm = await _upgrade_an_old_database(empty_url)
        try:
            async with crm.db.uow(write=False) as uow:
                lost, imported, still_open = [await uow.deals.get(i) for i in (1, 2, 3)]
                pipeline = await uow.pipelines.default()
                history = await uow.events.history(1)
                tasks = [await uow.tasks.get(i) for i in (1, 2)]
            assert lost is not None and imported is not None and still_open is not None
            assert pipeline is not None
            assert (lost.closed_from_stage_id, lost.reopen_stage(pipeline).name) == (2, "Opportunity")
            assert (imported.closed_from_stage_id, imported.reopen_stage(pipeline).name) == (1, "Unsorted")
            assert still_open.closed_from_stage_id is None
            cancelled, kept = tasks
            assert cancelled is not None and kept is not None
            assert (cancelled.done_at, cancelled.cancelled_at, cancelled.is_open) == (
                T0 + 2 * H,
                T0 + 2 * H,
                False,
            )
            assert (kept.done_at, kept.cancelled_at, kept.is_open) == (None, None, True)
            assert [(e.kind, e.at, e.data) for e in history[-1:]] == [
                (
                    EventKind.TASK_CANCELLED,
                    T0 + 2 * H,
                    {"task_id": 1, "text": "Call Ivan", "closed_as": "lost"},
                )
            ]
            assert await migrate.is_current(crm.db)
        finally:
            await crm.db.dispose()

    asyncio.run(check())
