"""Upgrading a database from before invitations carried extensions and the morning plan had a time:
a pending invitation still works (giving no extension), and morning plans keep coming when the
working day begins."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from crm_core.adapters.database import Database
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.conftest import BACKENDS, T0
from tests.upgrades import empty_database, revision_before, upgrade_old_rows

BEFORE = revision_before("0010")


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from empty_database(request, tmp_path, "upgrade_0010")


OLD_ROWS = [
    "INSERT INTO users (telegram_id, name, role, created_at) VALUES (100, 'Olga', 'boss', :t0)",
    "INSERT INTO invites (code, role, created_by_id, created_at, expires_at) "
    "SELECT 'old-code', 'seller', id, :t0, :t7 FROM users WHERE telegram_id = 100",
    "INSERT INTO user_settings (user_id, morning_plan_enabled) "
    "SELECT id, true FROM users WHERE telegram_id = 100",
]


async def _upgrade_an_old_database(url: str) -> Database:
    return await upgrade_old_rows(url, BEFORE, OLD_ROWS, {"t0": T0, "t7": T0 + timedelta(days=7)})


def test_an_old_invitation_still_works_and_the_morning_plan_keeps_its_time(empty_url: str) -> None:
    async def go() -> None:
        db = await _upgrade_an_old_database(empty_url)
        try:
            crm = Crm(db, clock=FixedClock(T0 + timedelta(hours=1)))
            nadia = await crm.invites.redeem(code="old-code", telegram_id=300, name="Nadia")
            assert (nadia.role.value, nadia.extensions) == ("seller", ())
            olga = await crm.users.identify(100)
            prefs = await crm.followups.preferences(actor=olga)
            assert (prefs.morning_plan_enabled, prefs.morning_time) == (True, None)
        finally:
            await db.dispose()

    asyncio.run(go())
