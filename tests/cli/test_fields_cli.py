"""The team's own fields from the command line: the funnel file's `fields:`, `--field`, CSV, group-by."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import yaml

from tests.cli.support import ALICE, BOB, BOSS, Kanbot
from tests.cli.support import shown_funnel as shown

FIELDS: list[dict[str, Any]] = [
    {
        "key": "city",
        "entity": "deal",
        "type": "choice",
        "names": {"en": "City", "ru": "Город", "ar": "المدينة"},
        "choices": ["Moscow", "Dubai", "London"],
        "required_from": "Commercial offer",
    },
    {"key": "seats", "entity": "deal", "type": "number", "names": {"en": "Seats", "ru": "Места"}},
    {
        "key": "products",
        "entity": "deal",
        "type": "multi_choice",
        "names": {"en": "Products"},
        "choices": ["PBX", "Phones", "Support"],
    },
    {"key": "vip", "entity": "contact", "type": "bool", "names": {"en": "VIP", "ru": "VIP", "ar": "VIP"}},
]


def apply(kanbot: Kanbot, path: Path, document: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(kanbot.ok("pipeline", "apply", path).stdout)


def with_fields(kanbot: Kanbot, tmp_path: Path) -> dict[str, Any]:
    document = shown(kanbot) | {"fields": FIELDS}
    assert "Fields applied: city, seats, products, vip" in apply(kanbot, tmp_path / "funnel.yaml", document)
    return document


def test_fields_apply_from_the_funnel_file_and_show_round_trips(team: Kanbot, tmp_path: Path) -> None:
    assert shown(team)["fields"] == []
    with_fields(team, tmp_path)
    first = shown(team)
    assert [f["key"] for f in first["fields"]] == ["city", "seats", "products", "vip"]
    assert first["fields"][0] == FIELDS[0]
    (tmp_path / "again.yaml").write_text(team.ok("pipeline", "show").stdout, encoding="utf-8")
    team.ok("pipeline", "apply", "again.yaml")
    assert shown(team) == first
    assert team.json("pipeline", "show") == first


def test_a_file_without_fields_leaves_them_and_a_bad_field_changes_nothing(
    team: Kanbot, tmp_path: Path
) -> None:
    document = with_fields(team, tmp_path)
    no_fields = {k: v for k, v in document.items() if k != "fields"}
    apply(team, tmp_path / "plain.yaml", no_fields)
    assert len(shown(team)["fields"]) == 4
    offer = next(s for s in no_fields["stages"] if s["name"] == "Commercial offer")
    renamed = no_fields | {
        "stages": [s | {"name": "Offer"} if s is offer else s for s in no_fields["stages"]]
    }
    (tmp_path / "renamed.yaml").write_text(yaml.safe_dump(renamed, allow_unicode=True), encoding="utf-8")
    result = team.ok("pipeline", "apply", "renamed.yaml")
    assert "note: field 'city' is required from 'Commercial offer', no stage now" in result.stderr
    apply(team, tmp_path / "back.yaml", no_fields)
    before = shown(team)
    bad = document | {"fields": [*FIELDS, {"key": "level", "type": "choice"}]}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    assert "choices of field 'level'" in team.refused("pipeline", "apply", "bad.yaml")
    unknown_stage = document | {"fields": [FIELDS[0] | {"required_from": "Nowhere"}]}
    (tmp_path / "stage.yaml").write_text(yaml.safe_dump(unknown_stage, allow_unicode=True), encoding="utf-8")
    assert "no stage of that name" in team.refused("pipeline", "apply", "stage.yaml")
    assert shown(team) == before


def test_a_field_with_values_is_removed_only_with_drop_fields(team: Kanbot, tmp_path: Path) -> None:
    document = with_fields(team, tmp_path)
    team.ok("deal", "add", "--as", ALICE, "--title", "Order", "--field", "seats=12")
    without = document | {"fields": [f for f in FIELDS if f["key"] != "seats"]}
    (tmp_path / "drop.yaml").write_text(yaml.safe_dump(without, allow_unicode=True), encoding="utf-8")
    message = team.refused("pipeline", "apply", "drop.yaml")
    assert "'seats'" in message and "drop_fields: [seats]" in message
    assert len(shown(team)["fields"]) == 4
    apply(team, tmp_path / "drop2.yaml", without | {"drop_fields": ["seats"]})
    assert [f["key"] for f in shown(team)["fields"]] == ["city", "products", "vip"]
    assert team.json("deal", "show", 1, "--as", ALICE)["fields"] == {}


def test_deal_add_and_edit_take_fields_and_the_json_shows_them(team: Kanbot, tmp_path: Path) -> None:
    with_fields(team, tmp_path)
    deal = team.json(
        "deal",
        "add",
        "--as",
        ALICE,
        "--title",
        "ACME",
        "--phone",
        "+74951234567",
        "--field",
        "city=dubai",
        "--field",
        "seats=1 200",
        "--field",
        "products=support, pbx",
        "--field",
        "vip=да",
    )
    assert deal["fields"] == {"city": "Dubai", "seats": "1200", "products": ["PBX", "Support"], "vip": True}
    edited = team.json(
        "deal", "edit", deal["id"], "--as", ALICE, "--field", "city=London", "--field", "seats="
    )
    assert edited["fields"] == {"city": "London", "products": ["PBX", "Support"], "vip": True}
    assert team.json("deal", "list", "--as", ALICE)[0]["fields"] == edited["fields"]
    history = team.json("deal", "history", deal["id"], "--as", ALICE)
    assert {"field": "city", "custom": True, "old": "Dubai", "new": "London"}.items() <= history[-2][
        "data"
    ].items()
    wrong = team.refused("deal", "edit", deal["id"], "--as", ALICE, "--field", "city=Paris", "--title", "New")
    assert "Moscow, Dubai, London" in wrong
    assert "seats" in team.refused("deal", "edit", deal["id"], "--as", ALICE, "--field", "seats=many")
    assert "KEY=VALUE" in team.refused("deal", "edit", deal["id"], "--as", ALICE, "--field", "city")
    assert team.json("deal", "show", deal["id"], "--as", ALICE)["title"] == "ACME"
    assert "No deal" in team.refused("deal", "edit", deal["id"], "--as", BOB, "--field", "city=Moscow")


def test_a_move_into_a_stage_that_requires_a_field_is_refused_naming_it(team: Kanbot, tmp_path: Path) -> None:
    with_fields(team, tmp_path)
    deal = team.json("deal", "add", "--as", ALICE, "--title", "ACME", "--stage", "Opportunity")
    message = team.refused("deal", "move", deal["id"], "--to", "Signing & payment", "--as", ALICE)
    assert message == f"Deal {deal['id']} needs city before it enters Signing & payment."
    assert "city" in team.refused("deal", "won", deal["id"], "--as", ALICE)
    assert "city" in team.refused("deal", "add", "--as", ALICE, "--title", "X", "--stage", "Commercial offer")
    team.ok("deal", "lost", deal["id"], "--reason", "Price", "--as", ALICE)  # a loss needs nothing
    team.ok("deal", "reopen", deal["id"], "--as", ALICE)
    team.ok("deal", "edit", deal["id"], "--as", ALICE, "--field", "city=Moscow")
    moved = team.json("deal", "move", deal["id"], "--to", "Commercial offer", "--as", ALICE)
    assert moved["stage"]["name"] == "Commercial offer"


def test_csv_carries_fields_as_columns_and_import_checks_them(team: Kanbot, tmp_path: Path) -> None:
    with_fields(team, tmp_path)
    team.ok(
        "deal",
        "add",
        "--as",
        ALICE,
        "--title",
        "ACME",
        "--field",
        "city=Dubai",
        "--field",
        "products=PBX,Phones",
    )
    rows = list(csv.DictReader(io.StringIO(team.ok("export", "deals").stdout)))
    assert (rows[0]["city"], rows[0]["seats"], rows[0]["products"], rows[0]["vip"]) == (
        "Dubai",
        "",
        "PBX, Phones",
        "",
    )
    (tmp_path / "deals.csv").write_text(
        "title,city,seats,vip\nOne,london,7,yes\nTwo,Paris,x,maybe\n", encoding="utf-8"
    )
    lines = team.refused("import", "deals", "deals.csv").splitlines()
    assert [line.split(":")[0] for line in lines[:1]] == ["line 3"]
    assert "city" in lines[0]
    (tmp_path / "deals.csv").write_text("title,city,seats,vip\nOne,london,7,yes\n", encoding="utf-8")
    team.ok("import", "deals", "deals.csv")
    imported = [d for d in team.json("deal", "list", "--as", BOSS) if d["title"] == "One"]
    assert imported[0]["fields"] == {"city": "London", "seats": "7", "vip": True}


def test_the_funnel_report_groups_open_deals_by_a_choice_field(team: Kanbot, tmp_path: Path) -> None:
    with_fields(team, tmp_path)
    for who, city, amount, stage in [
        (ALICE, "Moscow", "100", "Opportunity"),
        (ALICE, "Moscow", "50", "Opportunity"),
        (BOB, "Dubai", "30", "Opportunity"),
        (BOB, "Dubai", "20", "Commercial offer"),
        (ALICE, "", "7", "Opportunity"),
    ]:
        extra = ["--field", f"city={city}"] if city else []
        team.ok("deal", "add", "--as", who, "--title", "D", "--amount", amount, "--stage", stage, *extra)
    report = team.json("report", "funnel", "--as", BOSS, "--group-by", "city")
    opportunity = next(s for s in report["stages"] if s["name"] == "Opportunity")
    assert opportunity["groups"] == [
        {"value": "Moscow", "count": 2, "amount": "150.00"},
        {"value": "Dubai", "count": 1, "amount": "30.00"},
        {"value": "London", "count": 0, "amount": "0.00"},
        {"value": None, "count": 1, "amount": "7.00"},
    ]
    assert report["totals"] == [
        {"value": "Moscow", "count": 2, "amount": "150.00"},
        {"value": "Dubai", "count": 2, "amount": "50.00"},
        {"value": "London", "count": 0, "amount": "0.00"},
        {"value": None, "count": 1, "amount": "7.00"},
    ]
    mine = team.json("report", "funnel", "--as", BOB, "--group-by", "city")
    assert mine["totals"][1] == {"value": "Dubai", "count": 2, "amount": "50.00"}
    assert mine["totals"][0]["count"] == 0
    table = team.ok("report", "funnel", "--as", BOSS, "--group-by", "city").stdout
    assert "Opportunity" in table and "Moscow" in table
    assert "choice" in team.refused("report", "funnel", "--as", BOSS, "--group-by", "seats")
    assert "funnel report only" in team.refused("report", "sellers", "--as", BOSS, "--group-by", "city")
