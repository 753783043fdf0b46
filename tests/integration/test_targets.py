"""Targets: set by bosses only, and the month's report against them — the story of
tests/integration/sales_story.py, worked out by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_core.config import CrmConfig
from crm_core.domain.errors import InvalidInput, NotAllowed
from crm_core.ports import FixedClock
from crm_core.reports.targets import TargetFigures
from crm_core.services import Crm
from tests.integration.sales_story import tell
from tests.integration.support import Team


@pytest.fixture
def crm_config() -> CrmConfig:
    return CrmConfig(default_region="RU", default_currency="RUB", team_timezone="Europe/Moscow")


@pytest.fixture
async def story(crm: Crm, team: Team, clock: FixedClock) -> Team:
    await tell(crm, team, clock)
    await crm.targets.set_target(
        seller_telegram_id=201, month="2026-03", amount="1000", deals=4, actor=team.boss
    )
    await crm.targets.set_target(seller_telegram_id=202, month="2026-03", amount="2 000", actor=team.boss)
    return team


def figures(
    target: str | None, deals: int | None, won: str, n: int, forecast: str, left: int
) -> TargetFigures:
    return TargetFigures(Decimal(target) if target else None, deals, Decimal(won), n, Decimal(forecast), left)


async def test_the_month_is_set_against_its_targets_per_seller_and_for_the_team(
    crm: Crm, story: Team
) -> None:
    report = await crm.targets.targets(actor=story.boss)
    assert report.month == "2026-03"
    by_name = {r.seller.name: r.figures for r in report.sellers}
    # Alice: A1 300 + A2 200 (won at 01:00 on March 1st in Moscow) + A6 (no amount); A3 was February's.
    # Forecast: won 500 + A4 1000 × 35 %.
    assert by_name["Alice"] == figures("1000", 4, "500", 3, "850", 12)
    assert by_name["Alice"].share == 0.5
    # Bob: B1 700 + B5 900; forecast + B3 2000 × 15 % (B4 has no amount).
    assert by_name["Bob"] == figures("2000", None, "1600", 2, "1900", 12)
    assert by_name["Bob"].share == 0.8
    # Carol: no target; C2 250.50; forecast + C1 400 × 80 %.
    assert by_name["Carol"] == figures(None, None, "250.50", 1, "570.50", 12)
    assert by_name["Carol"].share is None
    assert list(by_name) == ["Alice", "Bob", "Carol"]  # the boss has neither a target nor a win
    assert report.team == figures("3000", 4, "2350.50", 6, "3320.50", 12)
    assert report.team.share == pytest.approx(0.7835)


async def test_a_month_over_is_what_it_won_and_one_ahead_has_all_its_days(crm: Crm, story: Team) -> None:
    february = await crm.targets.targets(actor=story.boss, month="2026-02")
    alice = next(r.figures for r in february.sellers if r.seller.name == "Alice")
    assert alice == figures(None, None, "500", 1, "500", 0)  # A3, at 23:30 on February 28th in Moscow
    assert february.team.target_amount is None and february.team.days_left == 0
    april = await crm.targets.targets(actor=story.boss, month="2026-04")
    assert april.team == figures(None, None, "0", 0, "0", 30)


async def test_a_seller_sees_their_own_row_and_the_team_figure_is_theirs(crm: Crm, story: Team) -> None:
    report = await crm.targets.targets(actor=story.alice)
    assert [r.seller.name for r in report.sellers] == ["Alice"]
    assert report.team == figures("1000", 4, "500", 3, "850", 12)
    with pytest.raises(NotAllowed):
        await crm.targets.targets(actor=story.alice, seller_telegram_id=202)
    mine = await crm.targets.list_targets(actor=story.alice)
    assert [(t.seller.name, t.target.amount) for t in mine] == [("Alice", Decimal("1000.00"))]


async def test_only_a_boss_sets_a_target_and_setting_again_replaces_it(crm: Crm, story: Team) -> None:
    with pytest.raises(NotAllowed):
        await crm.targets.set_target(seller_telegram_id=201, month="2026-03", amount="9", actor=story.alice)
    await crm.targets.set_target(seller_telegram_id=201, month="2026-03", amount="1200", actor=story.boss)
    targets = await crm.targets.list_targets(month="2026-03", actor=story.boss)
    assert [(t.seller.name, t.target.amount, t.target.deals) for t in targets] == [
        ("Alice", Decimal("1200.00"), None),
        ("Bob", Decimal("2000.00"), None),
    ]


@pytest.mark.parametrize(
    ("month", "amount", "deals", "field"),
    [
        ("2026-13", "100", None, "month"),
        ("March", "100", None, "month"),
        ("2026-03", "0", None, "amount"),
        ("2026-03", "-5", None, "amount"),
        ("2026-03", "lots", None, "amount"),
        ("2026-03", "100", "0", "deals"),
        ("2026-03", "100", "2.5", "deals"),
    ],
)
async def test_a_bad_target_is_refused_and_changes_nothing(
    crm: Crm, story: Team, month: str, amount: str, deals: str | None, field: str
) -> None:
    before = await crm.targets.list_targets(actor=story.boss)
    with pytest.raises(InvalidInput) as refused:
        await crm.targets.set_target(
            seller_telegram_id=201, month=month, amount=amount, deals=deals, actor=story.boss
        )
    assert refused.value.field == field
    assert await crm.targets.list_targets(actor=story.boss) == before
