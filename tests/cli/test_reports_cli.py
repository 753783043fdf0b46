"""`kanbot report ...`: the public JSON shapes of the reports, and who may see which figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.cli.support import ALICE, BOB, BOSS, Kanbot


@pytest.fixture
def sales(team: Kanbot) -> Kanbot:
    """Alice: A (1000.50) won from Opportunity, B (200.10) waiting in Opportunity, C (99.99) lost in Unsorted;
    Bob: D (50.00) waiting in Unsorted."""
    ids = {
        t: team.json("deal", "add", "--as", ALICE, "--title", t, "--amount", a)["id"]
        for t, a in (("A", "1000.50"), ("B", "200.10"), ("C", "99.99"))
    }
    team.ok("deal", "add", "--as", BOB, "--title", "D", "--amount", "50")
    team.ok("deal", "move", ids["A"], "--to", "Opportunity", "--as", ALICE)
    team.ok("deal", "move", ids["B"], "--to", "Opportunity", "--as", ALICE)
    team.ok("deal", "won", ids["A"], "--as", ALICE)
    team.ok("deal", "lost", ids["C"], "--reason", "Price", "--as", ALICE)
    return team


def test_the_funnel_report_prints_each_open_stage_with_amounts_as_decimal_strings(sales: Kanbot) -> None:
    report = sales.json("report", "funnel", "--as", BOSS)
    assert report == {
        "stages": [
            {
                "name": "Unsorted",
                "kind": "inbox",
                "count": 1,
                "amount": "50.00",
                "weighted_amount": "2.50",
            },  # D x 5%
            # B: 200.10 x 15% = 30.015, rounded half up
            {
                "name": "Opportunity",
                "kind": "open",
                "count": 1,
                "amount": "200.10",
                "weighted_amount": "30.02",
            },
            *(
                {"name": n, "kind": "open", "count": 0, "amount": "0.00", "weighted_amount": "0.00"}
                for n in ("Commercial offer", "Document approval", "Signing & payment", "Execution")
            ),
        ]
    }
    alices = sales.json("report", "funnel", "--as", ALICE)
    assert [s["count"] for s in alices["stages"][:2]] == [0, 1]
    assert sales.json("report", "funnel", "--as", BOSS, "--seller", BOB)["stages"][0]["amount"] == "50.00"
    table = sales.ok("report", "funnel", "--as", BOSS).stdout.splitlines()
    assert table[0].split() == ["stage", "deals", "amount", "weighted"]
    assert table[-1].split() == ["Total", "2", "250.10", "32.52"]


def test_the_conversion_report_has_its_period_its_stages_and_the_lame_stage(sales: Kanbot) -> None:
    report = sales.json("report", "conversion", "--as", BOSS, "--period", "7d")
    assert list(report) == ["period", "stages", "lame_stage"]
    start, end = (
        datetime.fromisoformat(report["period"]["from"]),
        datetime.fromisoformat(report["period"]["to"]),
    )
    assert end - start == timedelta(days=7)
    assert abs(end - datetime.now(UTC)) < timedelta(minutes=5)
    assert report["stages"][:2] == [
        # A B C D entered; A B went on; A was won; C was lost here
        {
            "name": "Unsorted",
            "entered": 4,
            "advanced": 2,
            "won": 1,
            "lost": 1,
            "conversion": 0.5,
            "loss_rate": 0.25,
        },
        # A B entered; A won (which is going further)
        {
            "name": "Opportunity",
            "entered": 2,
            "advanced": 1,
            "won": 1,
            "lost": 0,
            "conversion": 0.5,
            "loss_rate": 0.0,
        },
    ]
    assert [s["name"] for s in report["stages"]] == [
        "Unsorted",
        "Opportunity",
        "Commercial offer",
        "Document approval",
        "Signing & payment",
        "Execution",
    ]
    assert report["lame_stage"] is None  # one lost deal is no verdict
    alices = sales.json("report", "conversion", "--as", ALICE)
    assert alices["stages"][0] | {"conversion": 0, "loss_rate": 0} == {
        "name": "Unsorted",
        "entered": 3,
        "advanced": 2,
        "won": 1,
        "lost": 1,
        "conversion": 0,
        "loss_rate": 0,
    }
    assert alices["stages"][0]["conversion"] == round(2 / 3, 4)
    assert (
        "Lame stage: none yet — too few deals lost" in sales.ok("report", "conversion", "--as", BOSS).stdout
    )


def test_the_seller_and_velocity_reports_print_json_too(sales: Kanbot) -> None:
    sellers = sales.json("report", "sellers", "--as", BOSS)
    assert list(sellers) == ["period", "sellers"]
    assert sellers["sellers"] == [
        {
            "telegram_id": ALICE,
            "name": "Alice",
            "open_count": 1,
            "open_amount": "200.10",
            "won_count": 1,
            "won_amount": "1000.50",
            "lost_count": 1,
            "stale_count": 0,
            "lame_stage": None,
        },
        {
            "telegram_id": BOB,
            "name": "Bob",
            "open_count": 1,
            "open_amount": "50.00",
            "won_count": 0,
            "won_amount": "0.00",
            "lost_count": 0,
            "stale_count": 0,
            "lame_stage": None,
        },
    ]
    velocity = sales.json("report", "velocity", "--as", BOSS)
    assert list(velocity) == ["period", "stages"]
    assert [(s["name"], s["samples"]) for s in velocity["stages"][:2]] == [
        ("Unsorted", 3),
        ("Opportunity", 1),
    ]
    assert velocity["stages"][2] == {
        "name": "Commercial offer",
        "median_seconds": None,
        "median_hours": None,
        "samples": 0,
    }


def test_a_seller_cannot_see_another_sellers_figures(sales: Kanbot) -> None:
    for kind in ("funnel", "conversion", "sellers", "velocity"):
        assert sales.refused("report", kind, "--as", BOB, "--seller", ALICE) == (
            "You are not allowed to see another seller's figures."
        )
    [own] = sales.json("report", "sellers", "--as", BOB)["sellers"]
    assert own["name"] == "Bob"


def test_a_bad_period_or_report_name_is_refused(sales: Kanbot) -> None:
    assert sales.refused("report", "funnel", "--as", BOSS, "--period", "30x").startswith(
        "Invalid period: '30x'"
    )
    assert sales("report", "forecast", "--as", BOSS).exit_code == 2
    assert sales.refused("report", "funnel", "--as", BOSS, "--seller", 999) == "No user 999 was found."
