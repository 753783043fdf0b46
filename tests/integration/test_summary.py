"""The summary (won, lost, win rate, average won deal, median cycle, new deals by source) on the story
of tests/integration/sales_story.py, worked out by hand, on SQLite and PostgreSQL.

The period is [03-01 00:00, 03-20 12:00) UTC: A2 and A3 (won in February, UTC) are outside it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from crm_core.domain.errors import NotAllowed, NotFound
from crm_core.ports import FixedClock
from crm_core.reports.models import Period
from crm_core.reports.summary import SummaryFigures
from crm_core.services import Crm
from tests.integration.sales_story import NOW, tell
from tests.integration.support import Team

PERIOD = Period(datetime(2026, 3, 1, tzinfo=UTC), NOW)
NONE_NEW = {"manual": 0, "call": 0, "missed_call": 0, "import": 0, "api": 0, "web_form": 0}


@pytest.fixture
async def story(crm: Crm, team: Team, clock: FixedClock) -> Team:
    await tell(crm, team, clock)
    return team


def figures(
    won: int, amount: str, lost: int, average: str | None, median: float | None, **new: int
) -> SummaryFigures:
    return SummaryFigures(
        won, Decimal(amount), lost, Decimal(average) if average else None, median, NONE_NEW | new
    )


ALICE = figures(2, "300", 0, "300", 4.0, manual=2, call=1)  # A1 (2 d), A6 (6 d, no amount)
BOB = figures(2, "1600", 1, "800", 7.0, manual=3, missed_call=1, **{"import": 1})  # B1 4 d, B5 10 d
CAROL = figures(1, "250.50", 2, "250.50", 2.0, manual=3, web_form=1)  # C2 2 d; C3, C4 lost


async def test_the_summary_per_seller_and_for_the_team(crm: Crm, story: Team) -> None:
    summary = await crm.summary.summary(actor=story.boss, period=PERIOD)
    by_name = {r.seller.name: r.figures for r in summary.sellers}
    assert by_name == {"Alice": ALICE, "Bob": BOB, "Carol": CAROL}
    assert (ALICE.win_rate, BOB.win_rate, CAROL.win_rate) == (1.0, pytest.approx(2 / 3), pytest.approx(1 / 3))
    # The team: 5 won of 8 closed; 2150.50 over the 4 won with an amount = 537.625, half up;
    # cycles 2, 2, 4, 6, 10 days: the median is 4.
    assert summary.team == figures(
        5, "2150.50", 3, "537.63", 4.0, manual=8, call=1, missed_call=1, web_form=1, **{"import": 1}
    )
    assert summary.team.win_rate == 0.625


async def test_a_seller_sees_their_own_summary_and_a_boss_one_sellers(crm: Crm, story: Team) -> None:
    own = await crm.summary.summary(actor=story.bob, period=PERIOD)
    assert [(r.seller.name, r.figures) for r in own.sellers] == [("Bob", BOB)]
    assert own.team == BOB
    with pytest.raises(NotAllowed):
        await crm.summary.summary(actor=story.bob, period=PERIOD, seller_telegram_id=201)
    one = await crm.summary.summary(actor=story.boss, period=PERIOD, seller_telegram_id=203)
    assert one.team == CAROL


async def test_the_summary_of_one_pipeline_by_its_name(crm: Crm, story: Team) -> None:
    summary = await crm.summary.summary(actor=story.boss, period=PERIOD, pipeline="sales")
    assert summary.pipeline is not None and summary.pipeline.name == "Sales"
    assert summary.team.won_count == 5
    with pytest.raises(NotFound):
        await crm.summary.summary(actor=story.boss, period=PERIOD, pipeline="Nope")


async def test_a_period_with_nothing_closed_has_no_rate_average_or_median(crm: Crm, story: Team) -> None:
    quiet = Period(datetime(2026, 3, 17, tzinfo=UTC), NOW)
    summary = await crm.summary.summary(actor=story.boss, period=quiet)
    assert summary.team == figures(0, "0", 0, None, None)
    assert summary.team.win_rate is None


async def test_a_reopened_win_an_undone_move_and_a_loss_with_tasks_count_as_they_end(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    """Worked out by hand: a win reopened is no win; a move straight back changes nothing counted; a
    loss whose task was open counts once as lost. Alice: 0 won, 1 lost of 1 closed; 3 new, manual."""
    start = clock.now()
    alice = team.alice
    reopened = await crm.deals.create(actor=alice, title="Won, then reopened", amount="500")
    await crm.deals.mark_won(deal_id=reopened.id, actor=alice)
    await crm.deals.reopen(deal_id=reopened.id, actor=alice)
    moved = await crm.deals.create(actor=alice, title="Moved and back", amount="100")
    await crm.deals.move(deal_id=moved.id, to_stage="Opportunity", actor=alice)
    await crm.deals.move(deal_id=moved.id, to_stage="Unsorted", actor=alice)
    lost = await crm.deals.create(actor=alice, title="Lost with a task", amount="70")
    await crm.tasks.add(deal_id=lost.id, due_at=start + timedelta(days=1), text="Call back", actor=alice)
    await crm.deals.mark_lost(deal_id=lost.id, reason="Price", actor=alice)
    summary = await crm.summary.summary(
        actor=team.boss, period=Period(start - timedelta(days=1), start + timedelta(days=1))
    )
    [row] = [r for r in summary.sellers if r.seller.name == alice.name]
    assert row.figures == figures(0, "0", 1, None, None, manual=3)
    assert row.figures.win_rate == 0.0
    assert summary.team.won_count == 0 and summary.team.lost_count == 1
