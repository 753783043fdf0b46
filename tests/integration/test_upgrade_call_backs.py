"""Upgrading a database of the version before call-backs carried their number: each call-back learns
the number its text names (else its deal's contact's), with no attempts yet."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from crm_core.adapters import migrate
from crm_core.services import Crm
from tests.conftest import BACKENDS, T0
from tests.upgrades import empty_database, revision_before, upgrade_old_rows

BEFORE = revision_before("0012")
H = timedelta(hours=1)


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from empty_database(request, tmp_path, "upgrade_0012")


# Rows as the version before wrote them: a call-back with the number in its text, an old one whose
# text names none (its deal's contact has the number), and a custom task.
OLD_ROWS = [
    "INSERT INTO pipelines (id, name, is_default) VALUES (1, 'Sales', true)",
    "INSERT INTO stages (id, pipeline_id, name, position, kind, playbook, probability) VALUES "
    "(1, 1, 'Unsorted', 1, 'inbox', '', 5)",
    "INSERT INTO users (id, telegram_id, name, role, created_at) VALUES (1, 201, 'Alice', 'seller', :t0)",
    "INSERT INTO contacts (id, name, phone, company, created_at) VALUES (1, NULL, '+74959876543', NULL, :t0)",
    "INSERT INTO deals (id, pipeline_id, title, title_key, contact_id, currency, stage_id, owner_id, source, "
    "priority, created_at, stage_entered_at, last_activity_at, version) VALUES "
    "(1, 1, 'A caller', 'a caller', 1, 'RUB', 1, 1, 'missed_call', 'normal', :t0, :t0, :t0, 1)",
    "INSERT INTO tasks (id, deal_id, assignee_id, due_at, text, kind, created_at) VALUES "
    "(1, 1, 1, :t1, 'Call back +7 495 123-45-67', 'call_back', :t0), "
    "(2, 1, 1, :t1, 'Call back', 'call_back', :t0), "
    "(3, 1, 1, :t1, 'Send the offer', 'custom', :t0)",
]


async def _upgrade_an_old_database(url: str) -> Crm:
    return Crm(await upgrade_old_rows(url, BEFORE, OLD_ROWS, {"t0": T0, "t1": T0 + H}))


def test_call_backs_learn_their_number_from_their_text_or_their_contact(empty_url: str) -> None:
    async def check() -> None:
        crm = await _upgrade_an_old_database(empty_url)
        try:
            async with crm.db.uow(write=False) as uow:
                tasks = [await uow.tasks.get(i) for i in (1, 2, 3)]
            assert [(t.phone, t.attempts) for t in tasks if t is not None] == [
                ("+74951234567", 0),
                ("+74959876543", 0),
                (None, 0),
            ]
            assert await migrate.is_current(crm.db)
        finally:
            await crm.db.dispose()

    asyncio.run(check())
