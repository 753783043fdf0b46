""" "My open deals" has one definition — owned and open — and every count of them agrees with it.

Alice has three open deals, one won, one lost; two unassigned deals wait in the inbox; Bob has two.
The unassigned inbox is shown to Alice apart, never counted as hers.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_core.services import Crm
from tests.integration.support import Team


@dataclass
class Scene:
    alices_open: set[str]


async def every_situation(crm: Crm, team: Team) -> Scene:
    alice, bob, boss = team.alice, team.bob, team.boss
    for title, stage in (("A1", None), ("A2", None), ("A3", "Opportunity")):
        await crm.deals.create(actor=alice, title=title, amount="100", stage=stage)
    won = await crm.deals.create(actor=alice, title="A won", amount="100")
    await crm.deals.mark_won(deal_id=won.id, actor=alice)
    lost = await crm.deals.create(actor=alice, title="A lost", amount="100")
    await crm.deals.mark_lost(deal_id=lost.id, reason="Price", actor=alice)
    for title in ("Walk-in 1", "Walk-in 2"):
        inbox = await crm.deals.create(actor=boss, title=title, amount="100")
        await crm.deals.reassign(deal_id=inbox.id, owner_telegram_id=None, actor=boss)
    for title in ("B1", "B2"):
        await crm.deals.create(actor=bob, title=title, amount="100", stage="Opportunity")
    return Scene({"A1", "A2", "A3"})


async def test_every_count_of_a_sellers_open_deals_agrees(crm: Crm, team: Team) -> None:
    scene = await every_situation(crm, team)
    alice, boss = team.alice, team.boss
    assert {d.title for d in await crm.deals.my_open(actor=alice)} == scene.alices_open
    assert {d.title for d in await crm.deals.my_open(actor=boss, owner_telegram_id=201)} == scene.alices_open
    board = await crm.deals.board(actor=alice)
    assert (board.open_count, board.unassigned) == (3, 2)
    assert str(board.open_amount) == "300.00"
    own_only = await crm.deals.board(actor=alice, owner_telegram_id=201)
    assert (own_only.open_count, own_only.unassigned) == (3, 0)
    picked = await crm.deals.board(actor=boss, owner_telegram_id=201)
    assert (picked.open_count, picked.unassigned) == (3, 0)
    period = crm.reports.default_period()
    [mine] = await crm.reports.sellers(actor=alice, period=period)
    assert mine.open_count == 3
    team_rows = {r.seller.name: r.open_count for r in await crm.reports.sellers(actor=boss, period=period)}
    assert team_rows["Alice"] == 3 and team_rows["Bob"] == 2
    assert (await crm.reports.funnel(actor=alice)).count == 3


async def test_the_inbox_a_seller_may_take_from_is_listed_in_its_column_but_counted_apart(
    crm: Crm, team: Team
) -> None:
    await every_situation(crm, team)
    board = await crm.deals.board(actor=team.alice)
    inbox = next(c for c in board.columns if c.stage.name == "Unsorted")
    assert (inbox.count, inbox.unassigned) == (2, 2)
    _, page = await crm.deals.column(stage="Unsorted", actor=team.alice, limit=50)
    assert len(page.items) == inbox.count + inbox.unassigned
    everyone = await crm.deals.board(actor=team.boss)
    assert (everyone.open_count, everyone.unassigned) == (7, 0)  # a boss's "all deals" are all of them
