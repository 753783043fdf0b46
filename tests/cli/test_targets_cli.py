"""`kanbot target ...` and `kanbot report targets|summary`: the public JSON shapes, and who may do what."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

import pytest

from tests.cli.support import ALICE, BOB, BOSS, Kanbot

NO_NEW = {"manual": 0, "call": 0, "missed_call": 0, "import": 0, "api": 0, "web_form": 0}


def this_month() -> tuple[str, int]:
    """This month (the team's time zone is UTC by default), and its days left counting today."""
    today = datetime.now(UTC).date()
    return today.strftime("%Y-%m"), calendar.monthrange(today.year, today.month)[1] - today.day + 1


@pytest.fixture
def sales(team: Kanbot) -> Kanbot:
    """Alice: A (300) won, B (1000) in Commercial offer; Bob: D (100) lost. Targets: Alice 1000 and 2
    deals, Bob 500 — this month."""
    ids = {
        t: team.json("deal", "add", "--as", who, "--title", t, "--amount", a)["id"]
        for t, who, a in (("A", ALICE, "300"), ("B", ALICE, "1000"), ("D", BOB, "100"))
    }
    team.ok("deal", "won", ids["A"], "--as", ALICE)
    team.ok("deal", "move", ids["B"], "--to", "Commercial offer", "--as", ALICE)
    team.ok("deal", "lost", ids["D"], "--reason", "Price", "--as", BOB)
    month, _ = this_month()
    team.ok("target", "set", "--seller", ALICE, "--month", month, "--amount", "1000", "--deals", "2")
    team.ok("target", "set", "--seller", BOB, "--month", month, "--amount", "500", "--as", BOSS)
    return team


def test_the_targets_report_sets_each_seller_and_the_team_against_their_targets(sales: Kanbot) -> None:
    month, left = this_month()
    report = sales.json("report", "targets", "--as", BOSS)
    alice = {
        "telegram_id": ALICE,
        "name": "Alice",
        "target_amount": "1000.00",
        "target_deals": 2,
        "won_amount": "300.00",
        "won_deals": 1,
        "share": 0.3,
        "forecast_amount": "650.00",  # 300 won + B 1000 × 35 %
        "days_left": left,
    }
    bob = {
        "telegram_id": BOB,
        "name": "Bob",
        "target_amount": "500.00",
        "target_deals": None,
        "won_amount": "0.00",
        "won_deals": 0,
        "share": 0.0,
        "forecast_amount": "0.00",
        "days_left": left,
    }
    team = {
        "target_amount": "1500.00",
        "target_deals": 2,
        "won_amount": "300.00",
        "won_deals": 1,
        "share": 0.2,
        "forecast_amount": "650.00",
        "days_left": left,
    }
    assert report == {"month": month, "team": team, "sellers": [alice, bob]}
    own = sales.json("report", "targets", "--as", ALICE, "--month", month)
    assert own["sellers"] == [alice] and own["team"]["target_amount"] == "1000.00"


def test_the_summary_report_has_its_period_the_team_and_each_seller(sales: Kanbot) -> None:
    report = sales.json("report", "summary", "--as", BOSS, "--period", "7d", "--pipeline", "Sales")
    assert list(report) == ["period", "team", "sellers"]
    assert list(report["period"]) == ["from", "to"]
    assert report["team"] == {
        "won_count": 1,
        "won_amount": "300.00",
        "lost_count": 1,
        "win_rate": 0.5,
        "average_won_amount": "300.00",
        "median_cycle_days": 0.0,
        "new_by_source": NO_NEW | {"manual": 3},
    }
    assert [(s["telegram_id"], s["name"], s["won_count"], s["lost_count"]) for s in report["sellers"]] == [
        (ALICE, "Alice", 1, 0),
        (BOB, "Bob", 0, 1),
    ]
    assert report["sellers"][1]["win_rate"] == 0.0 and report["sellers"][1]["average_won_amount"] is None
    own = sales.json("report", "summary", "--as", BOB)
    assert [s["name"] for s in own["sellers"]] == ["Bob"] and own["team"]["lost_count"] == 1
    assert "pipeline" in sales.refused("report", "summary", "--as", BOSS, "--pipeline", "Nope")


def test_the_targets_are_listed_by_month_and_a_seller_lists_their_own(sales: Kanbot) -> None:
    month, _ = this_month()
    assert sales.json("target", "list", "--month", month) == [
        {"month": month, "telegram_id": ALICE, "name": "Alice", "amount": "1000.00", "deals": 2},
        {"month": month, "telegram_id": BOB, "name": "Bob", "amount": "500.00", "deals": None},
    ]
    assert [t["name"] for t in sales.json("target", "list", "--as", BOB)] == ["Bob"]
    assert "Alice" in sales.ok("target", "list").stdout


def test_a_bad_target_or_a_seller_setting_one_is_refused_and_changes_nothing(sales: Kanbot) -> None:
    before = sales.json("target", "list")
    assert "month" in sales.refused("target", "set", "--seller", ALICE, "--month", "2026-13", "--amount", "5")
    assert "amount" in sales.refused(
        "target", "set", "--seller", ALICE, "--month", "2026-12", "--amount", "0"
    )
    assert "not allowed" in sales.refused(
        "target", "set", "--seller", ALICE, "--month", "2026-12", "--amount", "5", "--as", ALICE
    )
    assert "user" in sales.refused("target", "set", "--seller", 999, "--month", "2026-12", "--amount", "5")
    assert sales.json("target", "list") == before
