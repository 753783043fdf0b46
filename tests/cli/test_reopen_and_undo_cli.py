"""`kanbot deal reopen`, a move undone by a move straight back, and the tasks of closed deals, as an
admin sees them in the JSON."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from crm_core.adapters.database import Database
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.cli.support import ALICE, BOB, BOSS, Kanbot
from tests.cli.test_deals_cli import DEAL_KEYS, aware


def a_deal_entered_days_ago(team: Kanbot, days: int, stage: str) -> int:
    """A deal of Alice's that has been in ``stage`` for ``days`` days, untouched since."""

    async def create() -> int:
        db = Database(team.database_url)
        try:
            crm = Crm(db, clock=FixedClock(datetime.now(UTC) - timedelta(days=days)))
            alice = await crm.users.identify(ALICE)
            return (await crm.deals.create(actor=alice, title="Quiet school", stage=stage)).id
        finally:
            await db.dispose()

    return asyncio.run(create())


def test_deal_reopen_puts_a_lost_deal_back_where_it_was_lost_and_prints_it(team: Kanbot) -> None:
    deal_id = team.json("deal", "add", "--as", ALICE, "--title", "Order", "--stage", "Opportunity")["id"]
    lost = team.json("deal", "lost", deal_id, "--reason", "Price", "--as", ALICE)
    assert (lost["stage"]["name"], lost["lost_reason"]) == ("Lost", "Price")
    reopened = team.json("deal", "reopen", deal_id, "--as", ALICE)
    assert list(reopened) == DEAL_KEYS
    assert (reopened["stage"]["name"], reopened["closed_at"], reopened["lost_reason"]) == (
        "Opportunity",
        None,
        None,
    )
    assert reopened == team.json("deal", "show", deal_id, "--as", ALICE)
    history = team.json("deal", "history", deal_id, "--as", ALICE)
    assert [(e["kind"], e["from_stage"], e["to_stage"]) for e in history] == [
        ("created", None, "Opportunity"),
        ("lost", "Opportunity", "Lost"),
        ("reopened", "Lost", "Opportunity"),
    ]
    assert history[2]["undoes"] == history[1]["id"]  # reopened the same day: the loss is undone


def test_deal_reopen_prints_the_deal_as_text_too(team: Kanbot) -> None:
    deal_id = team.json("deal", "add", "--as", ALICE, "--title", "Order", "--stage", "Execution")["id"]
    team.ok("deal", "won", deal_id, "--as", ALICE)
    text = team.ok("deal", "reopen", deal_id, "--as", ALICE).stdout
    assert "stage: Execution" in text and "title: Order" in text


def test_deal_reopen_refuses_an_open_deal_and_anothers_deal(team: Kanbot) -> None:
    deal_id = team.json("deal", "add", "--as", ALICE, "--title", "Order")["id"]
    assert "it is not closed" in team.refused("deal", "reopen", deal_id, "--as", ALICE)
    team.ok("deal", "lost", deal_id, "--reason", "Price", "--as", ALICE)
    assert team.refused("deal", "reopen", deal_id, "--as", BOB) == f"No deal {deal_id} was found."
    assert team.json("deal", "show", deal_id, "--as", ALICE)["stage"]["name"] == "Lost"


def test_a_closed_deal_moved_anywhere_but_where_it_was_closed_is_refused(team: Kanbot) -> None:
    deal_id = team.json("deal", "add", "--as", ALICE, "--title", "Order")["id"]
    team.ok("deal", "lost", deal_id, "--reason", "Price", "--as", ALICE)
    refusal = team.refused("deal", "move", deal_id, "--to", "Execution", "--as", ALICE)
    assert refusal == f"Deal {deal_id} is closed; it reopens in Unsorted, where it was closed."
    assert (
        team.json("deal", "move", deal_id, "--to", "Unsorted", "--as", ALICE)["stage"]["name"] == "Unsorted"
    )


def test_a_deal_moved_forward_and_straight_back_keeps_the_time_it_entered_its_stage(team: Kanbot) -> None:
    deal_id = a_deal_entered_days_ago(team, 8, "Opportunity")
    shown = team.json("deal", "show", deal_id, "--as", ALICE)
    entered = aware(shown["stage_entered_at"])
    assert datetime.now(UTC) - entered > timedelta(days=7)
    team.ok("deal", "move", deal_id, "--to", "Commercial offer", "--as", ALICE)
    back = team.json("deal", "move", deal_id, "--to", "Opportunity", "--as", ALICE)
    assert aware(back["stage_entered_at"]) == entered
    again = team.json("deal", "show", deal_id, "--as", BOSS)
    assert (again["stage"]["name"], aware(again["stage_entered_at"])) == ("Opportunity", entered)
    assert aware(again["last_activity_at"]) == entered  # the two moves were no activity
    history = team.json("deal", "history", deal_id, "--as", ALICE)
    assert [(e["kind"], e["to_stage"]) for e in history] == [
        ("created", "Opportunity"),
        ("moved", "Commercial offer"),
        ("moved", "Opportunity"),
    ]
    assert (history[1]["undoes"], history[2]["undoes"]) == (None, history[1]["id"])
    assert aware(history[1]["data"]["since"]) == entered
    table = team.ok("deal", "history", deal_id, "--as", ALICE).stdout
    assert f"undoes the moved of {history[1]['at']}" in table and "since=" not in table


def test_task_list_never_shows_a_task_of_a_closed_deal(team: Kanbot) -> None:
    won_id = team.json("deal", "add", "--as", ALICE, "--title", "Won one")["id"]
    lost_id = team.json("deal", "add", "--as", ALICE, "--title", "Lost one")["id"]
    open_id = team.json("deal", "add", "--as", ALICE, "--title", "Open one")["id"]
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).isoformat()
    for deal_id in (won_id, lost_id, open_id):
        team.ok("task", "add", deal_id, "--due", due, "--text", "Call", "--as", ALICE)
    assert len(team.json("task", "list", "--as", ALICE)) == 3
    team.ok("deal", "won", won_id, "--as", ALICE)
    team.ok("deal", "lost", lost_id, "--reason", "Price", "--as", ALICE)
    for listing in (
        team.json("task", "list", "--as", ALICE),
        team.json("task", "list", "--as", BOSS, "--all"),
    ):
        assert [t["deal_id"] for t in listing] == [open_id]
    team.ok("deal", "reopen", won_id, "--as", ALICE)  # reopening does not bring its task back
    assert [t["deal_id"] for t in team.json("task", "list", "--as", ALICE)] == [open_id]
    history = team.json("deal", "history", lost_id, "--as", ALICE)
    assert [e["kind"] for e in history][-2:] == ["lost", "task_cancelled"]
    assert history[-1]["data"]["text"] == "Call"


def test_a_task_of_a_closed_deal_cannot_be_done_or_planned(team: Kanbot) -> None:
    deal_id = team.json("deal", "add", "--as", ALICE, "--title", "Order")["id"]
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).isoformat()
    task = team.json("task", "add", deal_id, "--due", due, "--text", "Call", "--as", ALICE)
    team.ok("deal", "won", deal_id, "--as", ALICE)
    assert "cancelled when its deal was closed" in team.refused("task", "done", task["id"], "--as", ALICE)
    refusal = team.refused("task", "add", deal_id, "--due", due, "--text", "Again", "--as", ALICE)
    assert refusal == f"Deal {deal_id} is closed; reopen it first."
