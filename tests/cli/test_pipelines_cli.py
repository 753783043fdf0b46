"""Several pipelines through `kanbot`: the file of two, its round trip, removals, and `--pipeline`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli.support import ALICE, BOB, BOSS, Kanbot
from tests.cli.support import shown_funnel as shown
from tests.cli.support import write_yaml as write

RENEWAL_STAGES = [
    {"name": "New renewal", "kind": "inbox", "follow_up": "4h", "probability": 10},
    {
        "name": "Quote",
        "kind": "open",
        "follow_up": "2d",
        "playbook": "Send the renewal quote",
        "probability": 50,
    },
    {"name": "Renewed", "kind": "won", "probability": 100},
    {"name": "Churned", "kind": "lost"},
]


# The team's own fields beside the pipelines, in the same file (the shape): four of them.
FOUR_FIELDS = [
    {
        "key": "city",
        "entity": "deal",
        "type": "choice",
        "names": {"en": "City", "ru": "Город", "ar": "المدينة"},
        "choices": ["Moscow", "Dubai", "London"],
        "required_from": "Commercial offer",
    },
    {"key": "seats", "entity": "deal", "type": "number", "names": {"en": "Seats", "ru": "Места"}},
    {"key": "renewal_date", "entity": "deal", "type": "date", "names": {"en": "Renewal date"}},
    {"key": "site", "entity": "contact", "type": "url", "names": {"en": "Website", "ar": "الموقع"}},
]


def two_pipelines(kanbot: Kanbot, tmp_path: Path) -> dict[str, Any]:
    """Apply the issue's file of two pipelines (Sales as it is today, with a number, and Renewals)."""
    sales = shown(kanbot)
    document = {
        "pipelines": [
            {
                "pipeline": "Sales",
                "default": True,
                "numbers": ["+74951230000"],
                "stages": sales["stages"],
            },
            {"pipeline": "Renewals", "numbers": ["+7 495 123-00-01"], "stages": RENEWAL_STAGES},
        ],
        "fields": FOUR_FIELDS,
        "lost_reasons": sales["lost_reasons"],
    }
    applied = kanbot.ok("pipeline", "apply", write(tmp_path / "two.yaml", document))
    assert applied.stdout.splitlines() == [
        "Funnel applied: Sales: " + " → ".join(s["name"] for s in sales["stages"]),
        "Funnel applied: Renewals: New renewal → Quote → Renewed → Churned",
        "Fields applied: city, seats, renewal_date, site",
    ]
    return shown(kanbot)


def test_a_file_of_two_pipelines_applies_and_round_trips(team: Kanbot, tmp_path: Path) -> None:
    before = two_pipelines(team, tmp_path)
    assert [p["pipeline"] for p in before["pipelines"]] == ["Sales", "Renewals"]
    assert before["pipelines"][0]["default"] is True
    assert "default" not in before["pipelines"][1]
    assert before["pipelines"][0]["numbers"] == ["+74951230000"]
    assert before["pipelines"][1]["numbers"] == ["+74951230001"]  # kept in E.164
    assert before["pipelines"][1]["stages"][1] | {"id": 0} == {
        "id": 0,
        "name": "Quote",
        "kind": "open",
        "follow_up": "2d",
        "playbook": "Send the renewal quote",
        "probability": 50,
    }
    assert [(f["key"], f["type"]) for f in before["fields"]] == [
        ("city", "choice"),
        ("seats", "number"),
        ("renewal_date", "date"),
        ("site", "url"),
    ]
    assert before["fields"][0]["required_from"] == "Commercial offer"
    assert before["fields"][3]["entity"] == "contact"
    (tmp_path / "shown.yaml").write_text(team.ok("pipeline", "show").stdout, encoding="utf-8")
    team.ok("pipeline", "apply", tmp_path / "shown.yaml")
    assert shown(team) == before
    assert team.json("pipeline", "show") == before


def test_the_file_can_rename_a_pipeline_by_its_id_and_change_the_default(
    team: Kanbot, tmp_path: Path
) -> None:
    document = two_pipelines(team, tmp_path)
    deal = team.json("deal", "add", "--as", ALICE, "--title", "ACME renewal", "--pipeline", "Renewals")
    sales, renewals = document["pipelines"]
    renewals["pipeline"] = "Продления"
    renewals["default"] = True
    del sales["default"]
    team.ok(
        "pipeline", "apply", write(tmp_path / "renamed.yaml", document | {"pipelines": [sales, renewals]})
    )
    after = shown(team)
    assert [p["pipeline"] for p in after["pipelines"]] == ["Продления", "Sales"]  # the default first
    assert team.json("deal", "show", deal["id"], "--as", ALICE)["pipeline"] == {
        "id": renewals["id"],
        "name": "Продления",
    }


def test_a_pipeline_holding_deals_is_not_removed_until_the_file_says_where_they_go(
    team: Kanbot, tmp_path: Path
) -> None:
    document = two_pipelines(team, tmp_path)
    opened = team.json(
        "deal", "add", "--as", ALICE, "--title", "Open one", "--pipeline", "Renewals", "--stage", "Quote"
    )
    won = team.json("deal", "add", "--as", BOB, "--title", "Won one", "--pipeline", "Renewals")
    team.ok("deal", "won", won["id"], "--as", BOB)
    sales_only = document | {"pipelines": [document["pipelines"][0]]}
    path = write(tmp_path / "one.yaml", sales_only)
    message = team.refused("pipeline", "apply", path)
    assert "'Renewals' still holds 2 deal(s)" in message
    assert "move_pipelines" in message
    assert shown(team) == document
    wrong = write(tmp_path / "wrong.yaml", sales_only | {"move_pipelines": {"Renewals": "Sales/Renewed"}})
    assert "move_pipelines of 'Renewals'" in team.refused("pipeline", "apply", wrong)
    assert shown(team) == document
    team.ok(
        "pipeline", "apply", write(path, sales_only | {"move_pipelines": {"Renewals": "Sales/Opportunity"}})
    )
    after = shown(team)
    assert "pipelines" not in after and after["pipeline"] == "Sales"  # one pipeline: today's file
    assert after["numbers"] == ["+74951230000"]
    moved = team.json("deal", "show", opened["id"], "--as", ALICE)
    assert (moved["pipeline"]["name"], moved["stage"]["name"]) == ("Sales", "Opportunity")
    closed = team.json("deal", "show", won["id"], "--as", BOB)
    assert (closed["pipeline"]["name"], closed["stage"]["name"]) == ("Sales", "Won")


def test_a_malformed_file_of_pipelines_is_refused_naming_the_field(team: Kanbot, tmp_path: Path) -> None:
    document = two_pipelines(team, tmp_path)
    sales, renewals = document["pipelines"]
    cases = [
        (document | {"pipelines": [sales, renewals | {"default": True}]}, "Invalid default"),
        (document | {"pipelines": [sales, renewals | {"pipeline": "sales"}]}, "Invalid pipeline"),
        (document | {"pipelines": [sales, renewals | {"numbers": ["+74951230000"]}]}, "Invalid numbers"),
        (
            document | {"pipelines": [sales, renewals | {"numbers": ["84951230009"]}]},
            "numbers of pipeline 'Renewals'",
        ),
        (document | {"pipelines": [sales, {"pipeline": "Renewals"}]}, "funnel file of pipeline 'Renewals'"),
        (
            document | {"pipelines": [sales, renewals | {"lost_reasons": ["Price"]}]},
            "lost_reasons of pipeline",
        ),
        (document | {"stages": sales["stages"]}, "Invalid funnel file"),
        (document | {"pipelines": []}, "Invalid pipelines"),
    ]
    for number, (broken, field) in enumerate(cases):
        message = team.refused("pipeline", "apply", write(tmp_path / f"broken{number}.yaml", broken))
        assert field in message, message
        assert shown(team) == document


def test_pipeline_flags_on_deals_and_reports(team: Kanbot, tmp_path: Path) -> None:
    two_pipelines(team, tmp_path)
    sale = team.json("deal", "add", "--as", ALICE, "--title", "New sale", "--amount", "100")
    renewal = team.json(
        "deal",
        "add",
        "--as",
        ALICE,
        "--title",
        "Renewal",
        "--amount",
        "40",
        "--pipeline",
        "renewals",
        "--stage",
        "Quote",
    )
    assert sale["pipeline"]["name"] == "Sales"
    assert (renewal["pipeline"]["name"], renewal["stage"]["name"]) == ("Renewals", "Quote")
    assert [d["title"] for d in team.json("deal", "list", "--as", ALICE, "--pipeline", "Renewals")] == [
        "Renewal"
    ]
    assert [d["title"] for d in team.json("deal", "list", "--as", ALICE, "--pipeline", "Sales")] == [
        "New sale"
    ]
    assert {d["title"] for d in team.json("deal", "list", "--as", ALICE)} == {"New sale", "Renewal"}
    funnel = team.json("report", "funnel", "--as", BOSS, "--pipeline", "Renewals")
    assert [(r["name"], r["count"]) for r in funnel["stages"]] == [("New renewal", 0), ("Quote", 1)]
    assert "Support" in team.refused("deal", "list", "--as", ALICE, "--pipeline", "Support")
    moved = team.json("deal", "move", sale["id"], "--to", "Quote", "--pipeline", "Renewals", "--as", ALICE)
    assert (moved["pipeline"]["name"], moved["stage"]["name"]) == ("Renewals", "Quote")
    history = team.json("deal", "history", sale["id"], "--as", ALICE)
    assert history[-1]["kind"] == "pipeline_changed"
    assert "Renewed" in team.refused(
        "deal", "move", renewal["id"], "--to", "Renewed", "--pipeline", "Sales", "--as", ALICE
    )
