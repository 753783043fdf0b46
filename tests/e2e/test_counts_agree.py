"""One seller, one minute, every screen: /deals, /board, /report, the Mini App, /team and the digest all
count the same open deals — the seller's own; the unassigned inbox is shown apart, never as theirs."""

from __future__ import annotations

from typing import Any

import aiohttp

from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, MARIA, TOKEN, EmulatedChat, RunningKanbot
from tests.webapp.support import telegram_init_data


async def every_situation(crm: Crm) -> None:
    """Ali: three open deals, one won, one lost; two unassigned in the inbox; Maria: two open."""
    ali, olga, maria = [await crm.users.identify(t) for t in (ALI, BOSS, MARIA)]
    for title, stage in (("Open one", None), ("Open two", None), ("Open three", "Opportunity")):
        await crm.deals.create(actor=ali, title=title, amount="100", stage=stage)
    won = await crm.deals.create(actor=ali, title="Won one", amount="100")
    await crm.deals.mark_won(deal_id=won.id, actor=ali)
    lost = await crm.deals.create(actor=ali, title="Lost one", amount="100")
    await crm.deals.mark_lost(deal_id=lost.id, reason="Price", actor=ali)
    for title in ("Walk-in one", "Walk-in two"):
        inbox = await crm.deals.create(actor=olga, title=title, amount="100")
        await crm.deals.reassign(deal_id=inbox.id, owner_telegram_id=None, actor=olga)
    for title in ("Maria one", "Maria two"):
        await crm.deals.create(actor=maria, title=title, amount="100", stage="Opportunity")


async def mini_app_board(kanbot: RunningKanbot, telegram_id: int) -> Any:
    init = telegram_init_data(TOKEN, user_id=telegram_id, auth_date=kanbot.now())
    async with (
        aiohttp.ClientSession() as http,
        http.get(kanbot.http_url + "/app/api/board", headers={"Authorization": f"tma {init}"}) as response,
    ):
        assert response.status == 200
        return await response.json()


def line(text: str, start: str) -> str:
    return next(row for row in text.splitlines() if row.startswith(start))


async def test_every_screen_counts_a_sellers_open_deals_the_same(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await every_situation(crm)
    await chat.send(ALI, "/deals")
    assert "My deals · 3 open" in (await chat.last(ALI)).text
    await chat.send(ALI, "/board")
    board = (await chat.last(ALI)).text
    assert "your deals" in board and "3 open · ₽300" in board
    assert "2 unassigned deals in the inbox to take (not counted as yours)" in board
    await chat.send(ALI, "/report")
    assert "Funnel now — 3 open · ₽300" in (await chat.last(ALI)).text
    app = await mini_app_board(kanbot, ALI)
    assert (app["open"]["count"], app["open"]["unassigned"]) == (3, 2)
    await chat.send(BOSS, "/team")
    assert line((await chat.last(BOSS)).text, "• Ali:") == "• Ali: 3 · 1 · 0"
    await chat.send(BOSS, "/digest")
    digest = "\n".join(m.text for m in await chat.bot_messages(BOSS) if "Sellers" in m.text)
    assert line(digest, "• Ali:").startswith("• Ali: 3 · 1 · 1")
    boss_view = await mini_app_board(kanbot, BOSS)
    assert boss_view["open"]["count"] == 7  # the boss's "all deals": Ali's, Maria's and the inbox
