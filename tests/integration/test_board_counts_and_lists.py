"""The board from its counters, search through the text indexes, and /deals and the attach list as pages:
what keeps them fast at a million deals gives the same figures and rows as reading every deal."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete

from crm_core.adapters.repositories import deal_lists
from crm_core.adapters.tables import deals
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.integration.support import Team

H = timedelta(hours=1)


async def columns(crm: Crm, actor: object, owner: int | None = None) -> dict[str, tuple[int, Decimal, int]]:
    board = await crm.deals.board(actor=actor, owner_telegram_id=owner)  # type: ignore[arg-type]
    return {c.stage.name: (c.count, c.amount, c.unassigned) for c in board.columns if c.count or c.unassigned}


async def test_the_board_follows_every_move_reassignment_amount_change_and_removal(
    crm: Crm, team: Team
) -> None:
    alice, bob, boss = team.alice, team.bob, team.boss
    a = await crm.deals.create(actor=alice, title="A", amount="100.10")
    b = await crm.deals.create(actor=alice, title="B", amount="200.25")
    c = await crm.deals.create(actor=bob, title="C", amount="5", stage="Opportunity")
    walk_in = await crm.deals.create(actor=boss, title="Walk-in", amount="7")
    await crm.deals.reassign(deal_id=walk_in.id, owner_telegram_id=None, actor=boss)
    await crm.deals.move(deal_id=a.id, to_stage="Opportunity", actor=alice)
    await crm.deals.reassign(deal_id=b.id, owner_telegram_id=bob.telegram_id, actor=boss)
    await crm.deals.edit(deal_id=c.id, field="amount", value="50", actor=bob)
    won = await crm.deals.mark_won(deal_id=c.id, actor=bob)
    assert await columns(crm, boss) == {
        "Unsorted": (2, Decimal("207.25"), 0),  # B (now Bob's) and the walk-in
        "Opportunity": (1, Decimal("100.10"), 0),
        "Won": (1, Decimal("50.00"), 0),
    }
    assert await columns(crm, alice) == {
        "Unsorted": (0, Decimal("0.00"), 1),
        "Opportunity": (1, Decimal("100.10"), 0),
    }
    assert await columns(crm, boss, bob.telegram_id) == {
        "Unsorted": (1, Decimal("200.25"), 0),
        "Won": (1, Decimal("50.00"), 0),
    }
    async with crm.db.engine.begin() as conn:  # a removal the services never make, the counters still see
        await conn.execute(delete(deals).where(deals.c.id == won.id))
    assert await columns(crm, boss, bob.telegram_id) == {"Unsorted": (1, Decimal("200.25"), 0)}


async def test_a_word_in_many_deals_finds_the_same_deals_in_the_same_order(
    crm: Crm, team: Team, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(6):
        deal = await crm.deals.create(actor=team.alice, title=f"Acme order {n}", contact_name=f"Ivan {n}")
        if n == 2:
            await crm.deals.mark_lost(deal_id=deal.id, reason="Price", actor=team.alice)
        clock.advance(H)
    await crm.deals.create(actor=team.bob, title="Globex", contact_name="Acme's buyer")
    expected = ["Globex", "Acme order 5", "Acme order 4", "Acme order 3", "Acme order 1", "Acme order 0"]
    through_the_index = [d.title for d in await crm.deals.find(query="acme", actor=team.boss, limit=6)]
    monkeypatch.setattr(deal_lists, "SEARCH_CANDIDATES", 2)  # too many matches: walk in result order
    walking = [d.title for d in await crm.deals.find(query="acme", actor=team.boss, limit=6)]
    assert through_the_index == walking == expected
    assert [d.title for d in await crm.deals.find(query="ivan 4", actor=team.boss)] == ["Acme order 4"]
    assert [d.title for d in await crm.deals.find(query="ac", actor=team.alice, limit=2)] == [
        "Acme order 5",
        "Acme order 4",
    ]  # two letters: too short for the trigram index, found by walking


async def test_my_deals_come_a_page_at_a_time_those_needing_a_follow_up_first(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    waiting = await crm.deals.create(actor=team.alice, title="Waiting")  # Unsorted: follow up in 2 hours
    clock.advance(3 * H)
    for n in range(4):
        await crm.deals.create(actor=team.alice, title=f"Fresh {n}", stage="Opportunity")
        clock.advance(timedelta(minutes=1))
    closed = await crm.deals.create(actor=team.alice, title="Won")
    await crm.deals.mark_won(deal_id=closed.id, actor=team.alice)
    await crm.deals.create(actor=team.bob, title="Bob's")
    first = await crm.deals.my_open_page(actor=team.alice, size=3)
    second = await crm.deals.my_open_page(actor=team.alice, page=1, size=3)
    assert [d.title for d in first.deals + second.deals] == [
        "Waiting",
        "Fresh 3",
        "Fresh 2",
        "Fresh 1",
        "Fresh 0",
    ]
    assert (first.total, first.stale, waiting.id in {d.id for d in first.deals}) == (5, 1, True)
    as_boss = await crm.deals.my_open_page(actor=team.boss, owner_telegram_id=team.bob.telegram_id)
    assert [d.title for d in as_boss.deals] == ["Bob's"]
    recent = await crm.calls.recent_open_deals(actor=team.alice, limit=2)
    assert [d.title for d in recent] == ["Fresh 3", "Fresh 2"]
