"""Reports per pipeline, checked against a story of two pipelines worked out by hand (SQLite and PostgreSQL).

Sales is the default funnel; Renewals has New renewal (inbox, 10%, 4h) → Quote (open, 50%, 2d) →
Renewed (won) / Churned (lost). Times from T0 (the fixture clock); the period is [T0, T0 + 7d):

    T0         S1 created by Alice in Sales (1000.00); R1 by Alice in Renewals (200.00)
    T0+1h      R2 created by Bob in Renewals (300.00)
    T0+2h      S1 -> Opportunity
    T0+3h      R1 -> Quote
    T0+4h      S2 created by Bob in Sales (500.00)
    T0+5h      S2 changes pipeline to Renewals: from Unsorted to New renewal (first on both paths)
    T0+1d      R1 won; R2 lost in New renewal ("Price")
    T0+2d      S2 -> Quote
    T0+3d      S1 won
    T0+3d+2h   S3 created by Alice in Sales (50.00)
    T0+7d      now
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from crm_core.domain.errors import InvalidInput
from crm_core.domain.users import User
from crm_core.ports import FixedClock
from crm_core.reports import Period
from crm_core.services import Crm
from crm_core.services.funnel import funnels_spec_from_document
from tests.integration.support import Team

H, D = timedelta(hours=1), timedelta(days=1)
RENEWALS = [
    {"name": "New renewal", "kind": "inbox", "follow_up": "4h", "probability": 10},
    {"name": "Quote", "kind": "open", "follow_up": "2d", "probability": 50},
    {"name": "Renewed", "kind": "won", "probability": 100},
    {"name": "Churned", "kind": "lost"},
]


@pytest.fixture
async def story(crm: Crm, team: Team, clock: FixedClock) -> Period:
    sales: dict[str, Any] = await crm.pipelines.document()
    document = {
        "pipelines": [
            {"pipeline": "Sales", "default": True, "stages": sales["stages"]},
            {"pipeline": "Renewals", "stages": RENEWALS},
        ]
    }
    await crm.pipelines.apply(funnels_spec_from_document(document), actor=team.boss)
    t0 = clock.now()
    alice, bob = team.alice, team.bob
    ids: dict[str, int] = {}

    def create(name: str, who: User, amount: str, pipeline: str) -> Callable[[], Awaitable[object]]:
        async def step() -> None:
            ids[name] = (await crm.deals.create(actor=who, title=name, amount=amount, pipeline=pipeline)).id

        return step

    def move(name: str, who: User, stage: str) -> Callable[[], Awaitable[object]]:
        return lambda: crm.deals.move(deal_id=ids[name], to_stage=stage, actor=who)

    story: list[tuple[timedelta, Callable[[], Awaitable[object]]]] = [
        (0 * H, create("S1", alice, "1000", "Sales")),
        (0 * H, create("R1", alice, "200", "Renewals")),
        (1 * H, create("R2", bob, "300", "Renewals")),
        (2 * H, move("S1", alice, "Opportunity")),
        (3 * H, move("R1", alice, "Quote")),
        (4 * H, create("S2", bob, "500", "Sales")),
        (5 * H, lambda: crm.deals.change_pipeline(deal_id=ids["S2"], pipeline="Renewals", actor=bob)),
        (D, lambda: crm.deals.mark_won(deal_id=ids["R1"], actor=alice)),
        (D, lambda: crm.deals.mark_lost(deal_id=ids["R2"], reason="Price", actor=bob)),
        (2 * D, move("S2", bob, "Quote")),
        (3 * D, lambda: crm.deals.mark_won(deal_id=ids["S1"], actor=alice)),
        (3 * D + 2 * H, create("S3", alice, "50", "Sales")),
    ]
    for offset, step in story:
        clock.current = t0 + offset
        await step()
    clock.current = t0 + 7 * D
    return Period(t0, t0 + 7 * D)


async def test_the_funnel_of_each_pipeline_counts_its_own_open_deals(
    crm: Crm, team: Team, story: Period
) -> None:
    sales = await crm.reports.funnel(actor=team.boss)
    renewals = await crm.reports.funnel(actor=team.boss, pipeline="Renewals")
    # S3 50.00 × 5% = 2.50; the default pipeline when none is named
    assert [(r.stage.name, r.count, r.amount, r.weighted_amount) for r in sales.rows][:2] == [
        ("Unsorted", 1, Decimal("50.00"), Decimal("2.50")),
        ("Opportunity", 0, Decimal("0.00"), Decimal("0.00")),
    ]
    assert (sales.count, sales.amount) == (1, Decimal("50.00"))
    # S2 500.00 × 50% = 250.00
    assert [(r.stage.name, r.count, r.amount, r.weighted_amount) for r in renewals.rows] == [
        ("New renewal", 0, Decimal("0.00"), Decimal("0.00")),
        ("Quote", 1, Decimal("500.00"), Decimal("250.00")),
    ]


async def test_the_flow_of_each_pipeline_follows_its_stages(crm: Crm, team: Team, story: Period) -> None:
    sales = await crm.reports.flow(actor=team.boss, period=story, pipeline="Sales")
    renewals = await crm.reports.flow(actor=team.boss, period=story, pipeline="Renewals")
    assert [(r.stage.name, r.entered, r.advanced, r.won, r.lost) for r in sales][:2] == [
        ("Unsorted", 3, 1, 0, 0),  # S1 S2 S3 entered; S1 moved on (S2 left the pipeline: no advance)
        ("Opportunity", 1, 1, 1, 0),  # S1, won from here
    ]
    assert [(r.stage.name, r.entered, r.advanced, r.won, r.lost) for r in renewals] == [
        ("New renewal", 3, 2, 0, 1),  # R1 R2 created, S2 came in; R1 S2 moved on; R2 lost here
        ("Quote", 2, 1, 1, 0),  # R1 S2; R1 won from here
        ("Renewed", 1, 0, 0, 0),
        ("Churned", 1, 0, 0, 0),
    ]


async def test_the_conversion_of_each_pipeline_counts_what_went_further_in_it(
    crm: Crm, team: Team, story: Period
) -> None:
    sales = await crm.reports.conversion(actor=team.boss, period=story)
    renewals = await crm.reports.conversion(actor=team.boss, period=story, pipeline="Renewals")
    assert [(r.stage.name, r.entered, r.advanced, r.won, r.lost) for r in sales.rows][:3] == [
        ("Unsorted", 3, 1, 1, 0),  # of S1 S2 S3, S1 went further and was won; S2 went to Renewals
        ("Opportunity", 1, 1, 1, 0),
        ("Commercial offer", 0, 0, 0, 0),
    ]
    assert [(r.stage.name, r.entered, r.advanced, r.won, r.lost) for r in renewals.rows] == [
        ("New renewal", 3, 2, 1, 1),  # R1 R2 S2; R1 S2 went further, R1 was won, R2 lost here
        ("Quote", 2, 1, 1, 0),  # R1 S2; R1 won
    ]


async def test_the_velocity_of_each_pipeline_times_the_stays_in_its_stages(
    crm: Crm, team: Team, story: Period
) -> None:
    sales = await crm.reports.velocity(actor=team.boss, period=story)
    renewals = await crm.reports.velocity(actor=team.boss, period=story, pipeline="Renewals")
    # Unsorted: S1 2h, S2 1h (until it changed pipeline): median 1.5h; Opportunity: S1 3d - 2h = 70h
    assert [(r.stage.name, r.median, r.samples) for r in sales][:2] == [
        ("Unsorted", timedelta(minutes=90), 2),
        ("Opportunity", timedelta(hours=70), 1),
    ]
    # New renewal: R1 3h, R2 23h, S2 43h (T0+5h to T0+2d): median 23h; Quote: R1 21h (S2 still there)
    assert [(r.stage.name, r.median, r.samples) for r in renewals] == [
        ("New renewal", timedelta(hours=23), 3),
        ("Quote", timedelta(hours=21), 1),
    ]


async def test_the_sellers_of_each_pipeline_are_counted_on_its_deals(
    crm: Crm, team: Team, story: Period
) -> None:
    def figures(rows: list[Any]) -> dict[str, tuple[Any, ...]]:
        return {
            r.seller.name: (
                r.open_count,
                r.open_amount,
                r.won_count,
                r.won_amount,
                r.lost_count,
                r.stale_count,
            )
            for r in rows
        }

    sales = figures(await crm.reports.sellers(actor=team.boss, period=story))
    renewals = figures(await crm.reports.sellers(actor=team.boss, period=story, pipeline="Renewals"))
    zero = Decimal("0.00")
    # S3 open (stale: Unsorted's 2h passed long ago), S1 won; Bob's S2 is in Renewals now
    assert sales["Alice"] == (1, Decimal("50.00"), 1, Decimal("1000.00"), 0, 1)
    assert sales["Bob"] == (0, zero, 0, zero, 0, 0)
    # R1 won; S2 open in Quote since T0+2d (stale after 2d), R2 lost
    assert renewals["Alice"] == (0, zero, 1, Decimal("200.00"), 0, 0)
    assert renewals["Bob"] == (1, Decimal("500.00"), 0, zero, 1, 1)
    # /team's figures: both pipelines together
    every = figures(await crm.reports.sellers(actor=team.boss, period=story, every_pipeline=True))
    assert every["Alice"] == (1, Decimal("50.00"), 2, Decimal("1200.00"), 0, 1)
    assert every["Bob"] == (1, Decimal("500.00"), 0, zero, 1, 1)
    mine = await crm.reports.sellers(actor=team.alice, period=story, every_pipeline=True)
    assert list(figures(mine)) == ["Alice"]  # a seller still sees only their own row
    with pytest.raises(InvalidInput):
        await crm.reports.sellers(actor=team.boss, period=story, pipeline="Sales", every_pipeline=True)


async def test_the_digest_has_a_section_per_pipeline(crm: Crm, team: Team, story: Period) -> None:
    digest = await crm.reports.digest(actor=team.boss, since=story.start, until=story.end)
    assert [s.pipeline.name for s in digest.sections] == ["Sales", "Renewals"]
    sales, renewals = (s.activity for s in digest.sections)
    # Sales: S1 S2 S3 new; S1 to Opportunity and won: 2 forward; S1 won 1000.00
    assert (sales.new_deals, sales.moved_forward, sales.won_count, sales.won_amount, sales.lost_count) == (
        3,
        2,
        1,
        Decimal("1000.00"),
        0,
    )
    # Renewals: R1 R2 new (S2 came, was not new); R1 and S2 to Quote, R1 won: 3; R2 lost for "Price"
    assert (renewals.new_deals, renewals.moved_forward, renewals.won_count, renewals.won_amount) == (
        2,
        3,
        1,
        Decimal("200.00"),
    )
    assert (renewals.lost_count, renewals.top_lost_reasons) == (1, [("Price", 1)])
    assert digest.funnel == digest.sections[0].funnel
    assert [r.count for r in digest.sections[1].funnel.rows] == [0, 1]
