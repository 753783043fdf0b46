"""Integration fixtures: a small team on the real database (both backends)."""

from __future__ import annotations

import pytest

from crm_core.domain.users import Role
from crm_core.services import Crm
from tests.integration.support import Team


@pytest.fixture
async def team(crm: Crm) -> Team:
    boss = await crm.users.add(telegram_id=100, name="Boss", role=Role.BOSS)
    alice = await crm.users.add(telegram_id=201, name="Alice", role=Role.SELLER, extensions=("101",))
    bob = await crm.users.add(telegram_id=202, name="Bob", role=Role.SELLER, extensions=("102",))
    carol = await crm.users.add(telegram_id=203, name="Carol", role=Role.SELLER)
    return Team(boss, alice, bob, carol)
