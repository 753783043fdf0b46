"""`kanbot deal ...` and `kanbot task ...`: the public JSON shapes and the one-sentence refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.support import ALICE, BOB, BOSS, Kanbot

NEXT_YEAR = datetime.now(UTC).year + 1  # tasks are planned at most about three years ahead

DEAL_KEYS = [
    "id",
    "title",
    "pipeline",
    "stage",
    "owner",
    "contact",
    "amount",
    "currency",
    "source",
    "priority",
    "created_at",
    "stage_entered_at",
    "last_activity_at",
    "closed_at",
    "lost_reason",
    "lost_note",
    "version",
]


def aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() is not None, f"{text} has no offset"
    return moment


def test_a_deal_is_added_and_printed_in_its_public_json_shape(team: Kanbot) -> None:
    before = datetime.now(UTC)
    deal = team.json(
        "deal",
        "add",
        "--as",
        ALICE,
        "--title",
        "ООО «Ёлка» 🎄",
        "--contact-name",
        "أحمد",
        "--phone",
        "8 495 123-45-67",
        "--amount",
        "1 500,50",
        "--currency",
        "usd",
        "--stage",
        "opportunity",
    )
    assert list(deal) == DEAL_KEYS
    assert deal | {"id": 0, "created_at": "", "stage_entered_at": "", "last_activity_at": ""} == {
        "id": 0,
        "title": "ООО «Ёлка» 🎄",
        "pipeline": {"id": deal["pipeline"]["id"], "name": "Sales"},
        "stage": {"id": deal["stage"]["id"], "name": "Opportunity", "kind": "open"},
        "owner": {"telegram_id": ALICE, "name": "Alice"},
        "contact": {"name": "أحمد", "phone": "+74951234567"},
        "amount": "1500.50",
        "currency": "USD",
        "source": "manual",
        "priority": "normal",
        "created_at": "",
        "stage_entered_at": "",
        "last_activity_at": "",
        "closed_at": None,
        "lost_reason": None,
        "lost_note": None,
        "version": 1,
    }
    assert before <= aware(deal["created_at"]) <= datetime.now(UTC)
    assert deal["created_at"] == deal["stage_entered_at"] == deal["last_activity_at"]


def test_a_deal_without_amount_contact_or_owner_choice_has_nulls_and_defaults(team: Kanbot) -> None:
    deal = team.json("deal", "add", "--as", BOSS, "--title", "Walk-in", "--owner", BOB)
    assert (deal["amount"], deal["contact"], deal["currency"], deal["owner"]) == (
        None,
        None,
        "RUB",
        {"telegram_id": BOB, "name": "Bob"},
    )
    assert deal["stage"]["name"] == "Unsorted"


def test_a_deal_goes_through_the_funnel_and_its_history_shows_each_step(team: Kanbot) -> None:
    deal_id = team.json("deal", "add", "--as", ALICE, "--title", "Order", "--amount", "100")["id"]
    moved = team.json("deal", "move", deal_id, "--to", "COMMERCIAL OFFER", "--as", ALICE)
    assert list(moved) == DEAL_KEYS
    assert (moved["stage"]["name"], moved["version"]) == ("Commercial offer", 2)
    won = team.json("deal", "won", deal_id, "--as", ALICE)
    assert (won["stage"]["kind"], won["version"]) == ("won", 3)
    assert aware(won["closed_at"]) >= aware(won["created_at"])
    reopened = team.json("deal", "move", deal_id, "--to", str(moved["stage"]["id"]), "--as", ALICE)
    assert (reopened["stage"]["name"], reopened["closed_at"]) == ("Commercial offer", None)
    lost = team.json("deal", "lost", deal_id, "--reason", "Дорого", "--as", ALICE)
    assert (lost["stage"]["name"], lost["lost_reason"]) == ("Lost", "Дорого")
    history = team.json("deal", "history", deal_id, "--as", BOSS)
    assert [(e["kind"], e["actor"], e["from_stage"], e["to_stage"]) for e in history] == [
        ("created", "Alice", None, "Unsorted"),
        ("moved", "Alice", "Unsorted", "Commercial offer"),
        ("won", "Alice", "Commercial offer", "Won"),
        ("reopened", "Alice", "Won", "Commercial offer"),
        ("lost", "Alice", "Commercial offer", "Lost"),
    ]
    assert history[-1]["data"]["reason"] == "Дорого"
    # reopened at once: the win is undone (the reports count neither), the history keeps both
    assert [e["undoes"] for e in history] == [None, None, None, history[2]["id"], None]
    table = team.ok("deal", "history", deal_id, "--as", ALICE).stdout.splitlines()
    assert table[0].split() == ["at", "event", "by", "stage", "details"]
    assert len(table) == 2 + 5


def test_deal_show_prints_exactly_the_deal_json_and_the_next_task_to_people(team: Kanbot) -> None:
    deal_id = team.json("deal", "add", "--as", ALICE, "--title", "Order")["id"]
    team.ok(
        "task",
        "add",
        deal_id,
        "--due",
        f"{NEXT_YEAR}-01-01T10:00:00+03:00",
        "--text",
        "Send the offer",
        "--as",
        ALICE,
    )
    shown = team.json("deal", "show", deal_id, "--as", ALICE)
    assert list(shown) == DEAL_KEYS
    text = team.ok("deal", "show", deal_id, "--as", ALICE).stdout
    assert "title: Order" in text
    assert f"next_task: {NEXT_YEAR}-01-01T07:00:00+00:00 Send the offer" in text


def test_deals_are_listed_as_the_actor_may_see_them(team: Kanbot) -> None:
    team.ok("deal", "add", "--as", ALICE, "--title", "Alice's", "--amount", "10")
    team.ok("deal", "add", "--as", BOB, "--title", "Bob's", "--stage", "Opportunity")
    assert [d["title"] for d in team.json("deal", "list", "--as", ALICE)] == ["Alice's"]
    assert sorted(d["title"] for d in team.json("deal", "list", "--as", BOSS)) == ["Alice's", "Bob's"]
    assert [d["title"] for d in team.json("deal", "list", "--as", BOSS, "--stage", "opportunity")] == [
        "Bob's"
    ]
    assert [d["title"] for d in team.json("deal", "list", "--as", BOSS, "--owner", ALICE)] == ["Alice's"]
    assert all(list(d) == DEAL_KEYS for d in team.json("deal", "list", "--as", BOSS))
    table = team.ok("deal", "list", "--as", ALICE).stdout.splitlines()
    assert table[0].split() == ["id", "title", "stage", "owner", "amount", "phone"]
    assert "10.00 RUB" in table[2]
    assert "You are not allowed" in team.refused("deal", "list", "--as", BOB, "--owner", ALICE)


def test_deal_list_mine_is_what_every_screen_counts_as_a_sellers_open_deals(
    team: Kanbot, tmp_path: Path
) -> None:
    for title in ("Open one", "Open two", "Won one", "Lost one"):
        team.ok("deal", "add", "--as", ALICE, "--title", title)
    team.ok("deal", "add", "--as", ALICE, "--title", "Open three", "--stage", "Opportunity")
    team.ok("deal", "won", 3, "--as", ALICE)
    team.ok("deal", "lost", 4, "--as", ALICE, "--reason", "Price")
    unassigned = tmp_path / "inbox.csv"
    unassigned.write_text("title\nWalk-in one\nWalk-in two\n", encoding="utf-8")
    team.ok("import", "deals", unassigned)
    team.ok("deal", "add", "--as", BOB, "--title", "Bob's", "--stage", "Opportunity")
    mine = [d["title"] for d in team.json("deal", "list", "--as", ALICE, "--mine")]
    assert sorted(mine) == ["Open one", "Open three", "Open two"]
    assert len(team.json("deal", "list", "--as", ALICE)) == 7  # what she may see: closed and inbox too
    assert len(team.json("deal", "list", "--as", BOSS, "--mine", "--owner", ALICE)) == 3
    [alices] = team.json("report", "sellers", "--as", ALICE)["sellers"]
    assert alices["open_count"] == 3
    everyone = {s["name"]: s["open_count"] for s in team.json("report", "sellers", "--as", BOSS)["sellers"]}
    assert everyone["Alice"] == 3
    assert sum(s["count"] for s in team.json("report", "funnel", "--as", ALICE)["stages"]) == 3
    assert "leave out --stage" in team.refused("deal", "list", "--as", ALICE, "--mine", "--stage", "Won")


def test_a_new_deal_with_a_known_number_says_on_stderr_whose_customer_it_joins(team: Kanbot) -> None:
    team.ok(
        "deal",
        "add",
        "--as",
        ALICE,
        "--title",
        "Ivan: phones",
        "--contact-name",
        "Ivan",
        "--phone",
        "+74951234567",
    )
    added = team.ok(
        "deal", "add", "--as", BOB, "--title", "Ivan: headsets", "--phone", "8 495 123-45-67", "--json"
    )
    assert list(json.loads(added.stdout)) == DEAL_KEYS  # the JSON keeps its shape
    assert added.stderr == (
        "note: +74951234567 is Ivan's number; the new deal joins that customer, "
        "who has other open deals: 1 of another seller.\n"
    )
    again = team.ok("deal", "add", "--as", ALICE, "--title", "Ivan: cables", "--phone", "+74951234567")
    assert "who has other open deals: #1 Ivan: phones, 1 of another seller." in again.stderr
    assert (
        team.ok("deal", "add", "--as", ALICE, "--title", "Nobody's", "--phone", "+74957654321").stderr == ""
    )


def test_editing_a_shared_contact_asks_for_whom_and_each_deal_records_the_change(team: Kanbot) -> None:
    team.ok(
        "deal",
        "add",
        "--as",
        ALICE,
        "--title",
        "Ivan: phones",
        "--contact-name",
        "Ivan",
        "--phone",
        "+74951234567",
    )
    team.ok("deal", "add", "--as", BOB, "--title", "Ivan: headsets", "--phone", "+74951234567")
    refusal = team.refused("deal", "edit", 2, "--as", BOB, "--phone", "+7 495 765-43-21")
    assert refusal == (
        "Ivan is the contact of 2 deals: change it for all 2 deals, or give this deal its own contact. "
        "Add --contact-scope all or --contact-scope this."
    )
    assert team.json("deal", "show", 1, "--as", ALICE)["version"] == 1
    edited = team.json(
        "deal", "edit", 2, "--as", BOB, "--phone", "+7 495 765-43-21", "--contact-scope", "all"
    )
    assert edited["contact"] == {"name": "Ivan", "phone": "+74957654321"}
    alices = team.json("deal", "show", 1, "--as", ALICE)
    assert alices["contact"] == {"name": "Ivan", "phone": "+74957654321"}
    [last] = team.json("deal", "history", 1, "--as", ALICE)[-1:]
    assert (last["kind"], last["actor"], last["data"]["field"], last["data"]["via_deal"]) == (
        "edited",
        "Bob",
        "phone",
        2,
    )
    own = team.json("deal", "edit", 1, "--as", ALICE, "--contact-name", "Anna", "--contact-scope", "this")
    assert own["contact"] == {"name": "Anna", "phone": None}
    assert team.json("deal", "show", 2, "--as", BOB)["contact"]["name"] == "Ivan"


def test_deal_edit_changes_several_fields_at_once_or_refuses_in_one_sentence(team: Kanbot) -> None:
    team.ok("deal", "add", "--as", ALICE, "--title", "Order", "--amount", "100")
    edited = team.json("deal", "edit", 1, "--as", ALICE, "--title", "Bigger order", "--amount", "1 500")
    assert (edited["title"], edited["amount"], edited["version"]) == ("Bigger order", "1500.00", 2)
    assert "Invalid amount" in team.refused(
        "deal", "edit", 1, "--as", ALICE, "--title", "X", "--amount", "abc"
    )
    assert team.json("deal", "show", 1, "--as", ALICE)["title"] == "Bigger order"
    assert team.refused("deal", "edit", 1, "--as", ALICE).startswith("Nothing to change")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--phone", "12345"], "Invalid phone: '12345'"),
        (["--amount", "abc"], "Invalid amount: 'abc'"),
        (["--amount", "-5"], "Invalid amount: '-5'"),
        (["--stage", "Negotiation"], "No stage Negotiation was found."),
        (["--owner", 999], "No user 999 was found."),
        (["--currency", "rubles"], "Invalid currency"),
    ],
)
def test_a_deal_with_bad_input_is_refused_in_one_sentence_and_nothing_is_written(
    team: Kanbot, args: list[object], message: str
) -> None:
    assert message in team.refused("deal", "add", "--as", BOSS, "--title", "Order", *args)
    assert team.json("deal", "list", "--as", BOSS) == []


@pytest.mark.parametrize("title", ["", "x" * 201])
def test_an_empty_or_overlong_title_is_refused(team: Kanbot, title: str) -> None:
    assert team.refused("deal", "add", "--as", ALICE, "--title", title).startswith("Invalid title")
    assert team.json("deal", "list", "--as", BOSS) == []


def test_someone_elses_deal_looks_exactly_like_a_deal_that_does_not_exist(team: Kanbot) -> None:
    deal_id = team.json("deal", "add", "--as", ALICE, "--title", "Mine")["id"]
    for command in (
        ["show", deal_id],
        ["history", deal_id],
        ["won", deal_id],
        ["move", deal_id, "--to", "Won"],
        ["lost", deal_id, "--reason", "Price"],
    ):
        assert team.refused("deal", *command, "--as", BOB) == f"No deal {deal_id} was found."
    assert team.refused("deal", "show", 999, "--as", BOB) == "No deal 999 was found."
    assert team.json("deal", "show", deal_id, "--as", ALICE)["version"] == 1


def test_closing_a_closed_deal_or_losing_without_a_reason_is_refused_and_changes_nothing(
    team: Kanbot,
) -> None:
    deal_id = team.json("deal", "add", "--as", ALICE, "--title", "Order")["id"]
    assert team("deal", "lost", deal_id, "--as", ALICE).exit_code == 2  # --reason is required
    assert "lost reason" in team.refused("deal", "move", deal_id, "--to", "Lost", "--as", ALICE)
    team.ok("deal", "won", deal_id, "--as", ALICE)
    assert "is closed" in team.refused("deal", "won", deal_id, "--as", ALICE)
    assert "is closed" in team.refused(
        "deal", "move", deal_id, "--to", "Lost", "--reason", "Price", "--as", ALICE
    )
    assert len(team.json("deal", "history", deal_id, "--as", ALICE)) == 2
    assert team.json("deal", "show", deal_id, "--as", ALICE)["version"] == 2


def test_an_unknown_actor_is_refused(team: Kanbot) -> None:
    assert team.refused("deal", "list", "--as", 4242) == "No user 4242 was found."
    assert team.refused("deal", "list", "--as", 10**20) == f"No user {10**20} was found."


def test_ids_too_large_for_any_record_are_simply_not_found(team: Kanbot) -> None:
    assert team.refused("deal", "show", 3_000_000_000, "--as", BOSS) == "No deal 3000000000 was found."
    assert team.refused("task", "done", 3_000_000_000, "--as", BOSS) == "No task 3000000000 was found."
    assert (
        team.refused("deal", "add", "--as", BOSS, "--title", "X", "--owner", 10**20)
        == f"No user {10**20} was found."
    )


def test_tasks_are_planned_listed_and_done(team: Kanbot) -> None:
    deal_id = team.json("deal", "add", "--as", BOB, "--title", "Order")["id"]
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    task = team.json("task", "add", deal_id, "--due", due.isoformat(), "--text", "Позвонить", "--as", BOB)
    assert list(task) == [
        "id", "deal_id", "deal_title", "assignee", "due_at", "text", "kind", "done_at", "phone", "attempts"
    ]  # fmt: skip
    assert (
        task["deal_id"],
        task["assignee"],
        aware(task["due_at"]),
        task["text"],
        task["kind"],
        task["done_at"],
        task["phone"],
        task["attempts"],
    ) == (deal_id, "Bob", due, "Позвонить", "custom", None, None, 0)
    assert [t["id"] for t in team.json("task", "list", "--as", BOB)] == [task["id"]]
    assert team.json("task", "list", "--as", ALICE) == []
    assert [t["id"] for t in team.json("task", "list", "--as", BOSS, "--all")] == [task["id"]]
    assert "You are not allowed" in team.refused("task", "list", "--as", BOB, "--all")
    assert "OVERDUE" not in team.ok("task", "list", "--as", BOB).stdout
    done = team.json("task", "done", task["id"], "--as", BOB)
    assert done["done_at"] is not None
    assert "already done" in team.refused("task", "done", task["id"], "--as", BOB)
    assert team.json("task", "list", "--as", BOB) == []
    june = f"{NEXT_YEAR}-06-01T10:00"
    naive = team.json("task", "add", deal_id, "--due", june, "--text", "Later", "--as", BOB)
    assert aware(naive["due_at"]) == datetime(NEXT_YEAR, 6, 1, 7, 0, tzinfo=UTC)  # 10:00 in Moscow


@pytest.mark.parametrize(
    ("due", "message"),
    [
        ("2001-01-01T10:00:00+00:00", "in the past"),
        ("next tuesday", "Invalid time"),
        ("9999-12-31T10:00:00+00:00", "too far ahead"),  # the CRM plans at most about three years ahead
    ],
)
def test_a_task_due_in_the_past_or_at_no_time_is_refused(team: Kanbot, due: str, message: str) -> None:
    deal_id = team.json("deal", "add", "--as", BOB, "--title", "Order")["id"]
    assert message in team.refused("task", "add", deal_id, "--due", due, "--text", "Call", "--as", BOB)
    assert team.json("task", "list", "--as", BOB) == []


def test_a_task_keeps_what_it_is_about_its_words_optional(team: Kanbot) -> None:
    deal_id = team.json("deal", "add", "--as", BOB, "--title", "Order")["id"]
    due = f"{NEXT_YEAR}-02-01T10:00"
    call = team.json("task", "add", deal_id, "--due", due, "--kind", "call", "--as", BOB)
    meeting = team.json(
        "task", "add", deal_id, "--due", due, "--kind", "Meeting", "--text", "at their office", "--as", BOB
    )
    assert (call["kind"], call["text"]) == ("call", "")
    assert (meeting["kind"], meeting["text"]) == ("meeting", "at their office")
    listed = team.ok("task", "list", "--as", BOB).stdout
    assert "call" in listed and "meeting: at their office" in listed
    assert "use custom, call, meeting, email, other" in team.refused(
        "task", "add", deal_id, "--due", due, "--kind", "call_back", "--as", BOB
    )
    assert "task text" in team.refused("task", "add", deal_id, "--due", due, "--as", BOB)  # custom: words
    assert len(team.json("task", "list", "--as", BOB)) == 2
