"""Upgrading a database from before tasks' words were data: a call-back's English "Call back +7 ..." and
a reminder's "Follow up" (in whichever language set it) are emptied, so each chat words them in its
reader's language; what a person typed stays as typed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.features.cards import task_text
from bot.core.i18n import Tr
from crm_core.adapters import migrate
from crm_core.services import Crm
from tests.conftest import BACKENDS, T0
from tests.upgrades import empty_database, revision_before, upgrade_old_rows

BEFORE = revision_before("0017")
H = timedelta(hours=1)


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from empty_database(request, tmp_path, "upgrade_0017")


OLD_ROWS = [
    "INSERT INTO pipelines (id, name, is_default) VALUES (1, 'Sales', true)",
    "INSERT INTO stages (id, pipeline_id, name, position, kind, playbook, probability) VALUES "
    "(1, 1, 'Unsorted', 1, 'inbox', '', 5)",
    "INSERT INTO users (id, telegram_id, name, role, created_at) VALUES (1, 201, 'Alice', 'seller', :t0)",
    "INSERT INTO deals (id, pipeline_id, title, title_key, currency, stage_id, owner_id, source, "
    "priority, created_at, stage_entered_at, last_activity_at, version) VALUES "
    "(1, 1, 'A caller', 'a caller', 'RUB', 1, 1, 'missed_call', 'normal', :t0, :t0, :t0, 1)",
    "INSERT INTO tasks (id, deal_id, assignee_id, due_at, text, kind, created_at, phone) VALUES "
    "(1, 1, 1, :t1, 'Call back +7 495 123-45-67', 'call_back', :t0, '+74951234567'), "
    "(2, 1, 1, :t1, 'Связаться с клиентом', 'follow_up', :t0, NULL), "
    "(3, 1, 1, :t1, 'Follow up', 'follow_up', :t0, NULL), "
    "(4, 1, 1, :t1, 'Follow up on the invoice', 'follow_up', :t0, NULL), "
    "(5, 1, 1, :t1, 'Call back the owner', 'custom', :t0, NULL)",
]


def test_generated_task_texts_become_data_and_typed_ones_stay(empty_url: str) -> None:
    async def check() -> None:
        crm = Crm(await upgrade_old_rows(empty_url, BEFORE, OLD_ROWS, {"t0": T0, "t1": T0 + H}))
        try:
            async with crm.db.uow(write=False) as uow:
                tasks = [await uow.tasks.get(i) for i in (1, 2, 3, 4, 5)]
            assert await migrate.is_current(crm.db)
        finally:
            await crm.db.dispose()
        assert [t.text for t in tasks if t is not None] == [
            "",
            "",
            "",
            "Follow up on the invoice",
            "Call back the owner",
        ]
        ar = Tr("ar")
        said = [task_text(t, ar) for t in tasks if t is not None]
        assert said[0] == ar("Call back {number}", number="+7 495 123-45-67")
        assert said[1] == said[2] == ar("Follow up") != "Follow up"
        assert said[3:] == ["Follow up on the invoice", "Call back the owner"]

    asyncio.run(check())
