"""Every report figure checked against a small story worked out by hand, on SQLite and PostgreSQL.

The story (times from T0 = Monday 2026-03-02 09:00 UTC; the report period is [T0, T0 + 7d)):

    T0-2d      D0 created by Alice (800.30)
    T0-1d      D0 -> Opportunity
    T0         B1 created by Bob (5000.00)
    T0+1h      A1 created by Alice (1000.50), C1 by Carol (10.01)
    T0+2h      A2 by Alice (2000.25), B2 by Bob (700.70); B1 and C1 -> Opportunity
    T0+3h      A3 by Alice (300.10), B3 by Bob (1200.00); A1 -> Opportunity
    T0+4h      A4 by Alice (450.00), B4 by Bob (no amount); A2 -> Opportunity
    T0+5h      A5 by Alice (99.99)
    T0+6h      B2 and A3 -> Opportunity; B4 lost in Unsorted ("Not a fit")
    T0+8h      B3 -> Opportunity
    T0+11h     A5 -> Opportunity
    T0+1d      B2 -> Commercial offer
    T0+1d+2h   B1 -> Commercial offer
    T0+1d+3h   A1 -> Commercial offer
    T0+1d+5h   D0 -> Commercial offer
    T0+1d+10h  A2 lost in Opportunity ("Price")
    T0+2d      B3 -> Commercial offer
    T0+2d+3h   A1 won
    T0+2d+5h   A3 lost in Opportunity ("Price")
    T0+2d+12h  B2 lost in Commercial offer ("No budget")
    T0+3d+2h   B1 lost in Commercial offer ("Chose a competitor")
    T0+4d      B3 won
    T0+6d      Alice plans a task on D0 due T0+8d and snoozes A5 until T0+9d
    T0+7d      E1 created by Carol (no amount): this is "now"
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from crm_core.domain.users import User
from crm_core.ports import FixedClock
from crm_core.reports import Period
from crm_core.services import Crm
from tests.integration.support import Team

H, D = timedelta(hours=1), timedelta(days=1)
OPEN_STAGES = [
    "Unsorted",
    "Opportunity",
    "Commercial offer",
    "Document approval",
    "Signing & payment",
    "Execution",
]


async def tell_the_story(crm: Crm, team: Team, clock: FixedClock) -> tuple[datetime, dict[str, int]]:
    """Play the story above, each step at its time; return T0 and the deals' ids by name."""
    t0 = clock.now()
    alice, bob, carol = team.alice, team.bob, team.carol
    ids: dict[str, int] = {}

    def create(name: str, who: User, amount: str | None) -> Callable[[], Awaitable[object]]:
        async def step() -> None:
            ids[name] = (await crm.deals.create(actor=who, title=name, amount=amount)).id

        return step

    def move(name: str, who: User, stage: str) -> Callable[[], Awaitable[object]]:
        return lambda: crm.deals.move(deal_id=ids[name], to_stage=stage, actor=who)

    def won(name: str, who: User) -> Callable[[], Awaitable[object]]:
        return lambda: crm.deals.mark_won(deal_id=ids[name], actor=who)

    def lost(name: str, who: User, reason: str) -> Callable[[], Awaitable[object]]:
        return lambda: crm.deals.mark_lost(deal_id=ids[name], reason=reason, actor=who)

    story: list[tuple[timedelta, Callable[[], Awaitable[object]]]] = [
        (-2 * D, create("D0", alice, "800,30")),
        (-1 * D, move("D0", alice, "Opportunity")),
        (0 * H, create("B1", bob, "5 000")),
        (1 * H, create("A1", alice, "1 000,50")),
        (1 * H, create("C1", carol, "10.01")),
        (2 * H, create("A2", alice, "2,000.25")),
        (2 * H, create("B2", bob, "700.7")),
        (2 * H, move("B1", bob, "Opportunity")),
        (2 * H, move("C1", carol, "Opportunity")),
        (3 * H, create("A3", alice, "300.10")),
        (3 * H, create("B3", bob, "1200")),
        (3 * H, move("A1", alice, "Opportunity")),
        (4 * H, create("A4", alice, "450")),
        (4 * H, create("B4", bob, None)),
        (4 * H, move("A2", alice, "Opportunity")),
        (5 * H, create("A5", alice, "99.99")),
        (6 * H, move("B2", bob, "Opportunity")),
        (6 * H, move("A3", alice, "Opportunity")),
        (6 * H, lost("B4", bob, "Not a fit")),
        (8 * H, move("B3", bob, "Opportunity")),
        (11 * H, move("A5", alice, "Opportunity")),
        (D, move("B2", bob, "Commercial offer")),
        (D + 2 * H, move("B1", bob, "Commercial offer")),
        (D + 3 * H, move("A1", alice, "Commercial offer")),
        (D + 5 * H, move("D0", alice, "Commercial offer")),
        (D + 10 * H, lost("A2", alice, "Price")),
        (2 * D, move("B3", bob, "Commercial offer")),
        (2 * D + 3 * H, won("A1", alice)),
        (2 * D + 5 * H, lost("A3", alice, "Price")),
        (2 * D + 12 * H, lost("B2", bob, "No budget")),
        (3 * D + 2 * H, lost("B1", bob, "Chose a competitor")),
        (4 * D, won("B3", bob)),
        (6 * D, lambda: crm.tasks.add(deal_id=ids["D0"], due_at=t0 + 8 * D, text="Call", actor=alice)),
        (6 * D, lambda: crm.deals.snooze(deal_id=ids["A5"], until=t0 + 9 * D, actor=alice)),
        (7 * D, create("E1", carol, None)),
    ]
    for offset, step in story:
        clock.current = t0 + offset
        await step()
    return t0, ids


@pytest.fixture
async def story(crm: Crm, team: Team, clock: FixedClock) -> Period:
    """The story told; the clock stands at T0 + 7d; the period is [T0, T0 + 7d)."""
    t0, _ = await tell_the_story(crm, team, clock)
    return Period(t0, t0 + 7 * D)


async def test_the_funnel_snapshot_counts_sums_and_weights_the_open_deals(
    crm: Crm, team: Team, story: Period
) -> None:
    snapshot = await crm.reports.funnel(actor=team.boss)
    assert [(r.stage.name, r.count, r.amount, r.weighted_amount) for r in snapshot.rows] == [
        # A4 450.00 and E1 (no amount); weighted 450.00 x 5% = 22.50
        ("Unsorted", 2, Decimal("450.00"), Decimal("22.50")),
        # A5 99.99 + C1 10.01 = 110.00; weighted (99.99 + 10.01) x 15% = 16.50
        ("Opportunity", 2, Decimal("110.00"), Decimal("16.50")),
        # D0 800.30; weighted 800.30 x 35% = 280.105, rounded half up to 280.11
        ("Commercial offer", 1, Decimal("800.30"), Decimal("280.11")),
        ("Document approval", 0, Decimal("0.00"), Decimal("0.00")),
        ("Signing & payment", 0, Decimal("0.00"), Decimal("0.00")),
        ("Execution", 0, Decimal("0.00"), Decimal("0.00")),
    ]
    # 2 + 2 + 1 deals; 450.00 + 110.00 + 800.30 = 1360.30; 22.50 + 16.50 + 280.11 = 319.11
    assert (snapshot.count, snapshot.amount, snapshot.weighted_amount) == (
        5,
        Decimal("1360.30"),
        Decimal("319.11"),
    )


async def test_a_seller_gets_the_funnel_snapshot_of_their_own_deals(
    crm: Crm, team: Team, story: Period
) -> None:
    mine = await crm.reports.funnel(actor=team.alice)
    picked = await crm.reports.funnel(actor=team.boss, seller_telegram_id=team.alice.telegram_id)
    expected = [
        ("Unsorted", 1, Decimal("450.00"), Decimal("22.50")),  # A4: 450.00 x 5%
        ("Opportunity", 1, Decimal("99.99"), Decimal("15.00")),  # A5: 99.99 x 15% = 14.9985 -> 15.00
        ("Commercial offer", 1, Decimal("800.30"), Decimal("280.11")),  # D0
    ]
    for report in (mine, picked):
        assert [(r.stage.name, r.count, r.amount, r.weighted_amount) for r in report.rows][:3] == expected


async def test_the_period_flow_counts_what_entered_advanced_won_and_was_lost_at_each_stage(
    crm: Crm, team: Team, story: Period
) -> None:
    flow = await crm.reports.flow(actor=team.boss, period=story)
    assert [(r.stage.name, r.entered, r.advanced, r.won, r.lost) for r in flow] == [
        # created in the period: A1-A5, B1 (at T0 exactly), B2-B4, C1 = 10 (D0 before it, E1 at its end);
        # moved on: A1 A2 A3 A5 B1 B2 B3 C1 = 8; lost here: B4
        ("Unsorted", 10, 8, 0, 1),
        # entered: A1 A2 A3 A5 B1 B2 B3 C1 = 8 (D0 entered before); moved on to Commercial offer:
        # A1 B1 B2 B3 and D0 = 5; lost here: A2 A3
        ("Opportunity", 8, 5, 0, 2),
        # entered: A1 B1 B2 B3 D0 = 5; won from here: A1 B3 (a win is an advance too); lost here: B1 B2
        ("Commercial offer", 5, 2, 2, 2),
        ("Document approval", 0, 0, 0, 0),
        ("Signing & payment", 0, 0, 0, 0),
        ("Execution", 0, 0, 0, 0),
        ("Won", 2, 0, 0, 0),  # A1 B3
        ("Lost", 5, 0, 0, 0),  # A2 A3 B1 B2 B4
    ]


async def test_conversion_and_loss_per_stage_follow_the_deals_that_entered_it_in_the_period(
    crm: Crm, team: Team, story: Period
) -> None:
    report = await crm.reports.conversion(actor=team.boss, period=story)
    assert report.period == story
    assert [(r.stage.name, r.entered, r.advanced, r.won, r.lost) for r in report.rows] == [
        # of the 10 that entered Unsorted: 8 went further, A1 and B3 were won later, B4 lost here
        ("Unsorted", 10, 8, 2, 1),
        # of the 8 that entered Opportunity: A1 B1 B2 B3 went further, A1 B3 won, A2 A3 lost here
        ("Opportunity", 8, 4, 2, 2),
        # of the 5 that entered Commercial offer: A1 B3 won (went further), B1 B2 lost here; D0 still there
        ("Commercial offer", 5, 2, 2, 2),
        ("Document approval", 0, 0, 0, 0),
        ("Signing & payment", 0, 0, 0, 0),
        ("Execution", 0, 0, 0, 0),
    ]
    rates = [(r.conversion, r.loss_rate) for r in report.rows[:3]]
    assert rates == [(8 / 10, 1 / 10), (4 / 8, 2 / 8), (2 / 5, 2 / 5)]
    # average loss rate over the entered stages: (0.10 + 0.25 + 0.40) / 3 = 0.25;
    # Commercial offer: 0.40 >= 1.5 x 0.25 = 0.375 and 0.40 - 0.25 = 0.15 >= 0.10, with 2 lost: lame
    assert report.average_loss_rate == pytest.approx(0.25)
    assert report.lame_stage is not None and report.lame_stage.name == "Commercial offer"


async def test_a_seller_can_be_lame_at_a_stage_where_the_team_is_not(
    crm: Crm, team: Team, story: Period
) -> None:
    by_seller = await crm.reports.lame_stages_by_seller(actor=team.boss, period=story)
    assert [(x.seller.name, x.lame_stage.name if x.lame_stage else None) for x in by_seller] == [
        # Alice: Unsorted 0/5 lost, Opportunity 2/4 (A2 A3), Commercial offer 0/2: average 0.1667;
        # 0.50 >= 0.25 and 0.50 - 0.1667 >= 0.10: Opportunity, where the team (0.25) is not lame
        ("Alice", "Opportunity"),
        # Bob: Unsorted 1/4 (B4), Opportunity 0/3, Commercial offer 2/3 (B1 B2): average 0.3056;
        # 0.6667 >= 0.4583 and 0.6667 - 0.3056 >= 0.10
        ("Bob", "Commercial offer"),
        # Carol: C1 entered Unsorted and Opportunity and was lost nowhere
        ("Carol", None),
    ]
    assert [x.loss_rate for x in by_seller] == [pytest.approx(2 / 4), pytest.approx(2 / 3), 0.0]
    alone = await crm.reports.lame_stages_by_seller(actor=team.alice, period=story)
    assert [(x.seller.name, x.lame_stage.name if x.lame_stage else None) for x in alone] == [
        ("Alice", "Opportunity")
    ]


async def test_a_sellers_conversion_report_covers_only_their_deals(
    crm: Crm, team: Team, story: Period
) -> None:
    for report in (
        await crm.reports.conversion(actor=team.bob, period=story),
        await crm.reports.conversion(actor=team.boss, period=story, seller_telegram_id=team.bob.telegram_id),
    ):
        assert [(r.stage.name, r.entered, r.advanced, r.won, r.lost) for r in report.rows[:3]] == [
            ("Unsorted", 4, 3, 1, 1),  # B1-B4 entered; B1 B2 B3 went on; B3 won; B4 lost here
            ("Opportunity", 3, 3, 1, 0),  # B1 B2 B3 all reached Commercial offer
            ("Commercial offer", 3, 1, 1, 2),  # B3 won; B1 B2 lost here
        ]
        assert report.lame_stage is not None and report.lame_stage.name == "Commercial offer"


async def test_velocity_is_the_median_time_in_each_stage_over_stays_ended_in_the_period(
    crm: Crm, team: Team, story: Period
) -> None:
    rows = await crm.reports.velocity(actor=team.boss, period=story)
    assert [(r.stage.name, r.median, r.samples) for r in rows] == [
        # stays: A1 2h, A2 2h, A3 3h, A5 6h, B1 2h, B2 4h, B3 5h, B4 2h, C1 1h (D0's ended before the period;
        # A4 and E1 are still there): sorted 1 2 2 2 [2] 3 4 5 6 -> 2h
        ("Unsorted", 2 * H, 9),
        # A1 24h, A2 30h, A3 47h, B1 24h, B2 18h, B3 40h, D0 54h: sorted 18 24 24 [30] 40 47 54 -> 30h
        ("Opportunity", 30 * H, 7),
        # A1 24h, B1 48h, B2 36h, B3 48h: sorted 24 [36 48] 48 -> (36 + 48) / 2 = 42h
        ("Commercial offer", 42 * H, 4),
        ("Document approval", None, 0),
        ("Signing & payment", None, 0),
        ("Execution", None, 0),
    ]
    bobs = await crm.reports.velocity(actor=team.boss, period=story, seller_telegram_id=team.bob.telegram_id)
    assert [(r.stage.name, r.median, r.samples) for r in bobs[:3]] == [
        ("Unsorted", 3 * H, 4),  # B1 2h, B2 4h, B3 5h, B4 2h: sorted 2 [2 4] 5 -> 3h
        ("Opportunity", 24 * H, 3),  # B1 24h, B2 18h, B3 40h: sorted 18 [24] 40
        ("Commercial offer", 48 * H, 3),  # B1 48h, B2 36h, B3 48h: sorted 36 [48] 48
    ]


async def test_the_seller_table_shows_open_won_lost_and_stale_deals(
    crm: Crm, team: Team, story: Period
) -> None:
    rows = await crm.reports.sellers(actor=team.boss, period=story)
    assert [
        (r.seller.name, r.open_count, r.open_amount, r.won_count, r.won_amount, r.lost_count, r.stale_count)
        for r in rows
    ] == [
        # open: A4 450.00 + A5 99.99 + D0 800.30 = 1350.29; won A1 1000.50; lost A2 A3;
        # stale: only A4 (A5 is snoozed, D0 has a task due in the future)
        ("Alice", 3, Decimal("1350.29"), 1, Decimal("1000.50"), 2, 1),
        # nothing open; won B3 1200.00; lost B1 B2 B4
        ("Bob", 0, Decimal("0.00"), 1, Decimal("1200.00"), 3, 0),
        # open: C1 10.01 and E1 (no amount); stale: C1 (due T0+2h+3d), not E1 (created just now)
        ("Carol", 2, Decimal("10.01"), 0, Decimal("0.00"), 0, 1),
    ]
    stale = {d.title for d in await crm.deals.stale(actor=team.boss)}
    assert stale == {"A4", "C1"}
    [own] = await crm.reports.sellers(actor=team.carol, period=story)
    assert (own.seller.name, own.open_count, own.stale_count) == ("Carol", 2, 1)


async def test_the_activity_summary_counts_the_periods_events(crm: Crm, team: Team, story: Period) -> None:
    summary = await crm.reports.activity(actor=team.boss, period=story)
    # 10 created; forward moves: 8 out of Unsorted + 5 out of Opportunity + 2 wins = 15;
    # won A1 1000.50 + B3 1200.00 = 2200.50; lost A2 A3 B1 B2 B4
    assert (summary.new_deals, summary.new_from_calls, summary.moved_forward) == (10, 0, 15)
    assert (summary.won_count, summary.won_amount, summary.lost_count) == (2, Decimal("2200.50"), 5)
    assert summary.top_lost_reasons == [("Price", 2), ("Chose a competitor", 1), ("No budget", 1)]
    bobs = await crm.reports.activity(actor=team.bob, period=story)
    # Bob: B1-B4 created; B1 B2 B3 -> Opportunity, -> Commercial offer, B3 won: 3 + 3 + 1 = 7
    assert (bobs.new_deals, bobs.moved_forward, bobs.won_count, bobs.won_amount, bobs.lost_count) == (
        4,
        7,
        1,
        Decimal("1200.00"),
        3,
    )


async def test_a_period_in_which_nothing_happened_reports_zeros_and_no_lame_stage(
    crm: Crm, team: Team, story: Period
) -> None:
    quiet = Period(story.start - 30 * D, story.start - 20 * D)
    conversion = await crm.reports.conversion(actor=team.boss, period=quiet)
    assert all((r.entered, r.lost) == (0, 0) for r in conversion.rows)
    assert (conversion.lame_stage, conversion.average_loss_rate) == (None, 0.0)
    assert all(r.samples == 0 for r in await crm.reports.velocity(actor=team.boss, period=quiet))
    assert all(r.entered == 0 for r in await crm.reports.flow(actor=team.boss, period=quiet))
    sellers = await crm.reports.sellers(actor=team.boss, period=quiet)
    assert [(r.seller.name, r.won_count, r.lost_count) for r in sellers] == [
        ("Alice", 0, 0),
        ("Bob", 0, 0),
        ("Carol", 0, 0),
    ]
