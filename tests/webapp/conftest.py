"""The board's API served for tests: the team and the HTTP client (see board_support)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.webapp.api import webapp_routes
from crm_core.domain.users import Role
from crm_core.services import Crm
from tests.webapp.board_support import ALI, BOSS, MARIA, OMAR, TOKEN, Board, Team


@pytest.fixture
async def team(crm: Crm) -> Team:
    olga = await crm.users.ensure_boss(telegram_id=BOSS, name="Olga")
    ali = await crm.users.add(telegram_id=ALI, name="Ali", role=Role.SELLER)
    maria = await crm.users.add(telegram_id=MARIA, name="Maria", role=Role.SELLER, locale="ru")
    await crm.users.add(telegram_id=OMAR, name="Omar", role=Role.SELLER, locale="ar")
    ali_deal = await crm.deals.create(
        actor=ali, title="ACME: 20 IP phones", contact_name="Ivan Petrov", amount="1500", stage="Opportunity"
    )
    maria_deal = await crm.deals.create(actor=maria, title="Globex PBX", amount="4200", stage="Opportunity")
    inbox = await crm.deals.create(actor=olga, title="Missed call +7 495")
    inbox = await crm.deals.reassign(deal_id=inbox.id, owner_telegram_id=None, actor=olga)
    return Team(olga, ali, maria, ali_deal, maria_deal, inbox)


@pytest.fixture
async def board(crm: Crm, team: Team) -> AsyncIterator[Board]:
    wakes: list[int] = []
    app = web.Application()
    app.add_routes(webapp_routes(crm, bot_token=TOKEN, notify=lambda: wakes.append(1)))
    async with TestClient(TestServer(app)) as http:
        yield Board(http, crm, team, wakes)
