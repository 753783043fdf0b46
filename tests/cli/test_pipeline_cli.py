"""`kanbot pipeline show|apply`: the funnel as a YAML file an admin edits."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cli.support import ALICE, BOB, Kanbot
from tests.cli.support import shown_funnel as shown
from tests.cli.support import write_yaml as write


def test_the_funnel_shown_can_be_applied_back_unchanged(team: Kanbot, tmp_path: Path) -> None:
    (tmp_path / "funnel.yaml").write_text(team.ok("pipeline", "show").stdout, encoding="utf-8")
    before = shown(team)
    assert [s["name"] for s in before["stages"]][:2] == ["Unsorted", "Opportunity"]
    assert before["stages"][1]["follow_up"] == "3d"
    applied = team.ok("pipeline", "apply", "funnel.yaml")
    assert applied.stdout.startswith("Funnel applied: Unsorted → Opportunity → Commercial offer")
    assert shown(team) == before
    assert team.json("pipeline", "show") == before


def test_a_stage_is_renamed_by_its_id_and_a_new_one_added(team: Kanbot, tmp_path: Path) -> None:
    deal = team.json("deal", "add", "--as", ALICE, "--title", "Order", "--stage", "Opportunity")
    document = shown(team)
    document["stages"][1]["name"] = "Квалификация"
    document["stages"].insert(2, {"name": "Demo", "kind": "open", "follow_up": "1d", "probability": 20})
    team.ok("pipeline", "apply", write(tmp_path / "funnel.yaml", document))
    assert [s["name"] for s in shown(team)["stages"]][1:3] == ["Квалификация", "Demo"]
    assert team.json("deal", "show", deal["id"], "--as", ALICE)["stage"] == {
        "id": deal["stage"]["id"],
        "name": "Квалификация",
        "kind": "open",
    }


def test_a_stage_holding_deals_is_not_dropped_until_the_file_says_where_they_go(
    team: Kanbot, tmp_path: Path
) -> None:
    for who in (ALICE, BOB, ALICE):
        team.ok("deal", "add", "--as", who, "--title", "Order", "--stage", "Execution")
    before = shown(team)
    document = before | {"stages": [s for s in before["stages"] if s["name"] != "Execution"]}
    path = write(tmp_path / "funnel.yaml", document)
    message = team.refused("pipeline", "apply", path)
    assert "'Execution' still holds 3 deal(s)" in message
    assert "move_deals" in message
    assert shown(team) == before
    write(path, document | {"move_deals": {"Execution": "Signing & payment"}})
    team.ok("pipeline", "apply", path)
    assert [d["stage"]["name"] for d in team.json("deal", "list", "--as", ALICE)] == ["Signing & payment"] * 2


def test_a_broken_file_is_refused_naming_the_file_and_nothing_changes(team: Kanbot, tmp_path: Path) -> None:
    before = shown(team)
    (tmp_path / "broken.yaml").write_text("stages: [\n  - name: Unsorted\n", encoding="utf-8")
    assert "broken.yaml is not valid YAML" in team.refused("pipeline", "apply", "broken.yaml")
    two_inboxes = before | {"stages": [*before["stages"], {"name": "Inbox 2", "kind": "inbox"}]}
    message = team.refused("pipeline", "apply", write(tmp_path / "two.yaml", two_inboxes))
    assert "two.yaml" in message
    assert "exactly one inbox stage" in message
    negative = before | {"stages": [*before["stages"], {"name": "Later", "follow_up": "-2h"}]}
    assert "duration" in team.refused("pipeline", "apply", write(tmp_path / "neg.yaml", negative))
    assert shown(team) == before


def test_applying_a_file_that_does_not_exist_is_a_usage_error(team: Kanbot) -> None:
    assert team("pipeline", "apply", "missing.yaml").exit_code == 2


def test_a_65536_digit_or_huge_follow_up_is_refused_in_one_sentence(team: Kanbot, tmp_path: Path) -> None:
    before = shown(team)
    digits = before | {"stages": [*before["stages"], {"name": "Later", "follow_up": "9" * 65_536}]}
    message = team.refused("pipeline", "apply", write(tmp_path / "digits.yaml", digits))
    assert "Invalid duration" in message and "at most 40 characters" in message and len(message) < 300
    text = yaml.safe_dump(before, sort_keys=False).replace("follow_up: 3d", "follow_up: " + "9" * 5000, 1)
    (tmp_path / "number.yaml").write_text(text, encoding="utf-8")
    assert team.refused("pipeline", "apply", "number.yaml") == "number.yaml holds a number too long to read."
    assert shown(team) == before
