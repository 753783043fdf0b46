"""`kanbot export deals` and `kanbot import deals`: CSV out and in."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.cli.support import ALICE, BOB, BOSS, Kanbot
from tests.cli.test_pipelines_cli import two_pipelines

HEADER = "title,stage,owner_telegram_id,phone,amount\n"


def exported(kanbot: Kanbot) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(kanbot.ok("export", "deals", "--format", "csv").stdout)))


def test_deals_are_exported_as_csv_and_import_back(team: Kanbot, tmp_path: Path) -> None:
    team.ok(
        "deal",
        "add",
        "--as",
        ALICE,
        "--title",
        'Крыша, "срочно"\nи окна',
        "--amount",
        "1 500,50",
        "--phone",
        "8 495 123-45-67",
    )
    rows = exported(team)
    assert [(r["title"], r["amount"], r["phone"], r["owner_telegram_id"]) for r in rows] == [
        ('Крыша, "срочно"\nи окна', "1500.50", "+74951234567", str(ALICE))
    ]
    (tmp_path / "deals.csv").write_text(team.ok("export", "deals").stdout, encoding="utf-8")
    imported = team.ok("import", "deals", "deals.csv").stdout.splitlines()
    assert imported == [  # the number is a known customer's: the report says whose, and their deals
        "joined line 2: +74951234567 is +74951234567's; it joins their open deals: "
        '#1 Крыша, "срочно" и окна',
        "Imported 1 deal(s); skipped 0.",
    ]
    again = exported(team)
    assert [r["title"] for r in again] == [rows[0]["title"]] * 2
    assert sorted(r["source"] for r in again) == ["import", "manual"]


def test_a_file_with_bad_rows_imports_nothing_and_names_each_bad_line(team: Kanbot, tmp_path: Path) -> None:
    (tmp_path / "deals.csv").write_text(
        HEADER + "Good,,,,10\nBad phone,,,12345,\nBad amount,,,,abc\nBad owner,,999,,\n", encoding="utf-8"
    )
    result = team("import", "deals", "deals.csv")
    assert (result.exit_code, result.stdout) == (1, "")
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["line 3", "line 4", "line 5"]
    assert "phone" in lines[0] and "amount" in lines[1] and "999" in lines[2]
    assert lines[-1] == "Nothing was imported: 3 bad row(s) (use --skip-bad to import the others)."
    assert exported(team) == []
    skipped = team("import", "deals", "deals.csv", "--skip-bad")
    assert skipped.exit_code == 0
    assert "Imported 1 deal(s); skipped 3." in skipped.stdout
    assert skipped.stderr.startswith("skipped line 3: ")
    assert [r["title"] for r in exported(team)] == ["Good"]


def test_a_file_that_is_not_utf8_or_has_no_title_column_is_refused(team: Kanbot, tmp_path: Path) -> None:
    (tmp_path / "latin1.csv").write_bytes("title\nCafé\n".encode("latin-1"))
    assert "not UTF-8" in team.refused("import", "deals", "latin1.csv")
    (tmp_path / "untitled.csv").write_text("name,amount\nRoof,10\n", encoding="utf-8")
    assert "title" in team.refused("import", "deals", "untitled.csv")
    (tmp_path / "bom.csv").write_text("\ufefftitle\nWith a byte order mark\n", encoding="utf-8")
    team.ok("import", "deals", "bom.csv")
    assert [r["title"] for r in exported(team)] == ["With a byte order mark"]


def test_an_unknown_format_or_missing_file_is_a_usage_error(team: Kanbot) -> None:
    assert team("export", "deals", "--format", "xlsx").exit_code == 2
    assert team("import", "deals", "missing.csv").exit_code == 2
    assert len(team.json("deal", "list", "--as", BOSS)) == 0


def test_formula_like_titles_are_exported_with_a_leading_quote_and_import_back_exactly(
    team: Kanbot, tmp_path: Path
) -> None:
    titles = ["=1+1", "@SUM(A1)", "+cmd|' /C calc'!A0", "'=typed with a quote"]
    for title in titles:
        team.ok("deal", "add", "--as", ALICE, "--title", title)
    assert sorted(r["title"] for r in exported(team)) == sorted(
        ["'=1+1", "'@SUM(A1)", "'+cmd|' /C calc'!A0", "''=typed with a quote"]
    )
    (tmp_path / "deals.csv").write_text(team.ok("export", "deals").stdout, encoding="utf-8")
    team.ok("import", "deals", "deals.csv")
    imported = [d["title"] for d in team.json("deal", "list", "--as", BOSS) if d["source"] == "import"]
    assert sorted(imported) == sorted(titles)


def test_a_200_kb_field_is_refused_in_one_sentence(team: Kanbot, tmp_path: Path) -> None:
    (tmp_path / "big.csv").write_text(HEADER + "Fine,,,,\n" + "x" * 200_000 + ",,,,\n", encoding="utf-8")
    assert team.refused("import", "deals", "big.csv") == (
        "Nothing was imported: line 3 cannot be read as CSV: a field is longer than 131072 characters."
    )
    assert exported(team) == []


def test_the_pipeline_column_round_trips_deals_of_two_pipelines(team: Kanbot, tmp_path: Path) -> None:
    two_pipelines(team, tmp_path)
    team.ok("deal", "add", "--as", ALICE, "--title", "Roof", "--stage", "Opportunity")
    team.ok(
        "deal", "add", "--as", BOB, "--title", "ACME renewal", "--pipeline", "Renewals", "--stage", "Quote"
    )
    team.ok("deal", "add", "--as", ALICE, "--title", "New renewal", "--pipeline", "Renewals")
    placed = [
        ("ACME renewal", "Renewals", "Quote"),
        ("New renewal", "Renewals", "New renewal"),
        ("Roof", "Sales", "Opportunity"),
    ]
    assert sorted((r["title"], r["pipeline"], r["stage"]) for r in exported(team)) == placed
    header = team.ok("export", "deals").stdout.splitlines()[0].split(",")
    assert header[:4] == ["id", "title", "pipeline", "stage"]
    (tmp_path / "deals.csv").write_text(team.ok("export", "deals").stdout, encoding="utf-8")
    assert team.ok("import", "deals", "deals.csv").stdout.splitlines()[-1] == "Imported 3 deal(s); skipped 0."
    imported = [(r["title"], r["pipeline"], r["stage"]) for r in exported(team) if r["source"] == "import"]
    assert sorted(imported) == placed
    renewals = team.json("deal", "list", "--as", BOSS, "--pipeline", "Renewals")
    assert sorted(d["title"] for d in renewals) == ["ACME renewal"] * 2 + ["New renewal"] * 2


def test_an_unknown_pipeline_or_a_stage_of_another_pipeline_refuses_the_import(
    team: Kanbot, tmp_path: Path
) -> None:
    two_pipelines(team, tmp_path)
    (tmp_path / "deals.csv").write_text(
        "title,pipeline,stage\n"
        "Good renewal,renewals,quote\n"  # names are matched whatever their case
        "Good sale,,Opportunity\n"  # no pipeline: the default one
        "Upsell,Upsells,\n"
        "Quote in sales,Sales,Quote\n"
        "Renewal in the default,,Renewed\n",
        encoding="utf-8",
    )
    result = team("import", "deals", "deals.csv")
    assert (result.exit_code, result.stdout) == (1, "")
    lines = result.stderr.strip().splitlines()
    assert lines[0] == ("line 4: Invalid pipeline: 'Upsells' (no such pipeline; there are Sales, Renewals)")
    assert lines[1].startswith("line 5: ") and "Quote" in lines[1] and "stage" in lines[1]
    assert lines[2].startswith("line 6: ") and "Renewed" in lines[2]
    assert lines[-1] == "Nothing was imported: 3 bad row(s) (use --skip-bad to import the others)."
    assert exported(team) == []
    team.ok("import", "deals", "deals.csv", "--skip-bad")
    assert sorted((r["title"], r["pipeline"], r["stage"]) for r in exported(team)) == [
        ("Good renewal", "Renewals", "Quote"),
        ("Good sale", "Sales", "Opportunity"),
    ]
