"""Upgrading a database from before lost notes: a deal lost for "Other: <words>" keeps the reason
"Other" and the words as its note, on the deal and in its history, and reads as it did."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.features.cards import event_text
from bot.core.i18n import Tr
from crm_core.adapters import migrate
from crm_core.domain.history import EventKind
from crm_core.services import Crm
from tests.conftest import BACKENDS, T0
from tests.upgrades import empty_database, revision_before, upgrade_old_rows

BEFORE = revision_before("0014")
H = timedelta(hours=1)


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from empty_database(request, tmp_path, "upgrade_0014")


# A deal lost for "Other: too pricey", one lost for a configured reason; stages 1-4 are Unsorted,
# Opportunity, Won, Lost.
OLD_ROWS = [
    "INSERT INTO pipelines (id, name, is_default) VALUES (1, 'Sales', true)",
    "INSERT INTO stages (id, pipeline_id, name, position, kind, playbook, probability) VALUES "
    "(1, 1, 'Unsorted', 1, 'inbox', '', 5), (2, 1, 'Opportunity', 2, 'open', '', 15), "
    "(3, 1, 'Won', 3, 'won', '', 100), (4, 1, 'Lost', 4, 'lost', '', 0)",
    "INSERT INTO users (id, telegram_id, name, role, created_at) VALUES (1, 201, 'Alice', 'seller', :t0)",
    "INSERT INTO deals (id, pipeline_id, title, title_key, amount, currency, stage_id, owner_id, source, "
    "priority, created_at, stage_entered_at, last_activity_at, closed_at, lost_reason, "
    "closed_from_stage_id, version) VALUES "
    "(1, 1, 'Other one', 'other one', NULL, 'RUB', 4, 1, 'manual', 'normal', :t0, :t1, :t1, :t1, "
    "'Other: too pricey', 2, 2), "
    "(2, 1, 'Price one', 'price one', NULL, 'RUB', 4, 1, 'manual', 'normal', :t0, :t1, :t1, :t1, "
    "'Price', 2, 2)",
    "INSERT INTO deal_events (deal_id, kind, at, actor_id, from_stage_id, to_stage_id, data) VALUES "
    "(1, 'lost', :t1, 1, 2, 4, '{\"reason\": \"Other: too pricey\"}'), "
    "(2, 'lost', :t1, 1, 2, 4, '{\"reason\": \"Price\"}')",
]


async def _upgrade_an_old_database(url: str) -> Crm:
    return Crm(await upgrade_old_rows(url, BEFORE, OLD_ROWS, {"t0": T0, "t1": T0 + H}))


def test_an_other_reason_splits_into_the_reason_and_the_sellers_words(empty_url: str) -> None:
    async def check() -> None:
        crm = await _upgrade_an_old_database(empty_url)
        try:
            async with crm.db.uow(write=False) as uow:
                other, price = [await uow.deals.get(i) for i in (1, 2)]
                (other_lost,) = await uow.events.history(1)
                (price_lost,) = await uow.events.history(2)
            assert other is not None and price is not None
            assert (other.lost_reason, other.lost_note, other.lost_reason_text) == (
                "Other",
                "too pricey",
                "Other: too pricey",
            )
            assert (price.lost_reason, price.lost_note) == ("Price", None)
            assert (other_lost.kind, other_lost.data) == (
                EventKind.LOST,
                {"reason": "Other", "note": "too pricey"},
            )
            assert price_lost.data == {"reason": "Price"}
            ru = Tr("ru")
            assert ru.lost_reason(other.lost_reason, other.lost_note) == "Другая причина: too pricey"
            assert "Другая причина: too pricey" in event_text(other_lost, "Lost", ru)
            assert await migrate.is_current(crm.db)
        finally:
            await crm.db.dispose()

    asyncio.run(check())
