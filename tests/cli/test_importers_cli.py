"""`kanbot import from kommo|bitrix24|pipedrive`: each product's own export, imported twice gives its
deals once. The expected values below are read off the files in tests/data/imports by hand."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.cli.support import ALICE, BOB, BOSS, Kanbot
from tests.cli.test_pipelines_cli import two_pipelines
from tests.cli.test_transfer_cli import exported

DATA = Path(__file__).parents[1] / "data" / "imports"
SHOWN = ("title", "stage", "owner_telegram_id", "contact_name", "phone", "amount", "currency", "closed_at")


def deals(kanbot: Kanbot) -> dict[str, tuple[str, ...]]:
    """Every deal by title: what the import sets, as `kanbot export deals` writes it."""
    rows = exported(kanbot)
    assert all(r["source"] == "import" for r in rows)
    return {r["title"]: (*(r[k] for k in SHOWN[1:]), r["lost_reason"], r["created_at"]) for r in rows}


def notes(kanbot: Kanbot, deal_id: str) -> list[str]:
    history: list[dict[str, Any]] = kanbot.json("deal", "history", deal_id, "--as", BOSS)
    return [e["data"]["text"] for e in history if e["kind"] == "note"]


def copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copyfile(DATA / name, tmp_path / name))


PIPEDRIVE = {
    "Roof repair": (
        "Opportunity",
        str(ALICE),
        "Ivan Petrov",
        "+74951234567",
        "1500.00",
        "EUR",
        "",
        "",
        "2026-11-02T09:15:00+00:00",
    ),
    # the same number as Ivan's (written another way): the deal joins Ivan's contact
    "Office chairs": (
        "Won",
        str(BOB),
        "Ivan Petrov",
        "+74951234567",
        "250.50",
        "USD",
        "2026-11-15T12:00:00+00:00",
        "",
        "2026-10-01T10:00:00+00:00",
    ),
    # Carl Jensen is nobody in Kanbot: the deal comes with no owner
    "Warehouse shelving": (
        "Lost",
        "",
        "Oleg",
        "+79161234567",
        "9000.00",
        "RUB",
        "2026-11-20T16:30:00+00:00",
        "Too expensive",
        "2026-09-12T14:00:00+00:00",
    ),
    "Website redesign": ("Unsorted", str(ALICE), "", "", "", "EUR", "", "", "2026-11-28T08:00:00+00:00"),
}


def test_a_pipedrive_export_is_checked_then_imported_and_imported_again_changes_nothing(
    team: Kanbot, tmp_path: Path
) -> None:
    export = copy("pipedrive_deals.csv", tmp_path)
    dry = team.ok("import", "from", "pipedrive", export, "--dry-run").stdout.splitlines()
    assert dry[:5] == [
        "Stages with no Kanbot stage (map them with --map-stages):",
        "  Sales / Lead In: 1 deal(s)",
        "  Sales / Qualified: 1 deal(s)",
        "Pipedrive users who are no Kanbot user (their deals come with no owner):",
        "  Carl Jensen: 1 deal(s)",
    ]
    assert (
        dry[-1] == "Dry run, nothing changed: 2 new deal(s), 0 to update, 2 bad row(s), "
        "1 with a note of other columns."
    )
    assert exported(team) == []

    refused = team("import", "from", "pipedrive", export)
    assert (refused.exit_code, refused.stdout) == (1, "")
    assert "  Sales / Qualified: 1 deal(s)" in refused.stderr.splitlines()
    assert refused.stderr.splitlines()[-1].startswith("Nothing was imported: 2 bad row(s)")
    assert exported(team) == []

    stages = DATA / "pipedrive_stages.yaml"
    first = team.ok("import", "from", "pipedrive", export, "--map-stages", stages).stdout.splitlines()
    assert first[-1] == "Imported from Pipedrive: 4 new deal(s), 0 updated, 0 unchanged; skipped 0."
    assert deals(team) == PIPEDRIVE
    by_title = {r["title"]: r["id"] for r in exported(team)}
    assert notes(team, by_title["Roof repair"]) == [
        "From Pipedrive:\nDeal - Probability: 50\nDeal - Expected close date: 2026-12-20\nDeal - Seats: 10\n"
        "Person - Email: ivan@roofs.example"
    ]
    before = exported(team)

    again = team.ok("import", "from", "pipedrive", export, "--map-stages", stages).stdout.splitlines()
    assert again[-1] == "Imported from Pipedrive: 0 new deal(s), 0 updated, 4 unchanged; skipped 0."
    assert exported(team) == before  # the same deals, once, with the same values
    assert len(notes(team, by_title["Roof repair"])) == 1

    # the deal moved on in Pipedrive: the next import brings it up to date
    text = export.read_text(encoding="utf-8").replace(
        "101,Roof repair,Alice,Alice,1500,EUR,750,50,Roofs LLC,Sales,Ivan Petrov,Qualified,",
        "101,Roof repair,Alice,Alice,1800,EUR,750,50,Roofs LLC,Sales,Ivan Petrov,Proposal Made,",
    )
    export.write_text(text, encoding="utf-8")
    later = team.ok("import", "from", "pipedrive", export, "--map-stages", stages).stdout.splitlines()
    assert later[-1] == "Imported from Pipedrive: 0 new deal(s), 1 updated, 3 unchanged; skipped 0."
    now = deals(team)
    assert now["Roof repair"][:5] == (
        "Commercial offer",
        str(ALICE),
        "Ivan Petrov",
        "+74951234567",
        "1800.00",
    )
    assert {k: v for k, v in now.items() if k != "Roof repair"} == {
        k: v for k, v in PIPEDRIVE.items() if k != "Roof repair"
    }


def test_a_kommo_xlsx_export_fills_the_declared_fields_and_notes_the_other_columns(
    team: Kanbot, tmp_path: Path
) -> None:
    two_pipelines(team, tmp_path)  # declares the deal field `city` (Moscow, Dubai, London)
    export = copy("kommo_leads.xlsx", tmp_path)
    stages = DATA / "kommo_stages.yaml"
    dry = team.ok("import", "from", "kommo", export, "--map-stages", stages, "--dry-run").stdout.splitlines()
    assert dry == [
        "Kommo users who are no Kanbot user (their deals come with no owner):",
        "  Dmitry: 1 deal(s)",
        "Dry run, nothing changed: 5 new deal(s), 0 to update, 0 bad row(s), 2 with a note of other columns.",
    ]
    assert exported(team) == []
    result = team.ok("import", "from", "kommo", export, "--map-stages", stages, "--progress-every", "2")
    assert (
        result.stdout.splitlines()[-1]
        == "Imported from Kommo: 5 new deal(s), 0 updated, 0 unchanged; skipped 0."
    )
    assert "... 2 rows" in result.stderr.splitlines() and "... 4 rows" in result.stderr.splitlines()
    expected = {
        "Solar panels for a villa": (
            "Opportunity",
            str(ALICE),
            "Omar Haddad",
            "+971501234567",
            "48000.00",
            "RUB",
            "",
            "",
            "2026-11-03T09:30:00+00:00",
        ),
        # Anna Smirnova is Bob by the mapping file; Omar's mobile is his work phone: one contact
        "Battery storage": (
            "Commercial offer",
            str(BOB),
            "Omar Haddad",
            "+971501234567",
            "12500.50",
            "RUB",
            "",
            "",
            "2026-10-14T15:00:00+00:00",
        ),
        "Inverter replacement": (
            "Won",
            str(ALICE),
            "John Smith",
            "+442079460958",
            "3200.00",
            "RUB",
            "2026-09-25T17:00:00+00:00",
            "",
            "2026-09-01T11:00:00+00:00",
        ),
        "Roof survey": (
            "Lost",
            "",
            "Lena",
            "+79167654321",
            "900.00",
            "RUB",
            "2026-09-02T09:00:00+00:00",
            "No budget",
            "2026-08-20T10:00:00+00:00",
        ),
        "Carport panels": ("Unsorted", str(ALICE), "", "", "", "RUB", "", "", "2026-12-01T08:00:00+00:00"),
    }
    assert deals(team) == expected
    rows = {r["title"]: r for r in exported(team)}
    assert (rows["Solar panels for a villa"]["city"], rows["Inverter replacement"]["city"]) == (
        "Dubai",
        "London",
    )
    assert notes(team, rows["Solar panels for a villa"]["id"]) == [
        "From Kommo:\nTags: web\nWork email (contact): omar@haddad.example"
    ]
    assert notes(team, rows["Carport panels"]["id"]) == []
    before = exported(team)
    again = team.ok("import", "from", "kommo", export, "--map-stages", stages).stdout.splitlines()
    assert again[-1] == "Imported from Kommo: 0 new deal(s), 0 updated, 5 unchanged; skipped 0."
    assert exported(team) == before


def test_a_russian_bitrix24_csv_export_is_imported_once(team: Kanbot, tmp_path: Path) -> None:
    export = copy("bitrix24_deals.csv", tmp_path)  # Windows-1251, semicolons, as a Russian account writes it
    stages = DATA / "bitrix24_stages.yaml"
    dry = team.ok("import", "from", "bitrix24", export, "--dry-run").stdout.splitlines()
    assert dry[:3] == [
        "Stages with no Kanbot stage (map them with --map-stages):",
        "  Общая / Новая: 1 deal(s)",
        "  Общая / Подготовка документов: 1 deal(s)",
    ]
    assert "  Неизвестный Менеджер: 1 deal(s)" in dry
    first = team.ok("import", "from", "bitrix24", export, "--map-stages", stages).stdout.splitlines()
    assert first[-1] == "Imported from Bitrix24: 4 new deal(s), 0 updated, 0 unchanged; skipped 0."
    assert deals(team) == {
        "Поставка окон": (
            "Unsorted",
            str(BOB),
            "Пётр Иванов",
            "+74955551234",
            "120000.00",
            "RUB",
            "",
            "",
            "2026-11-01T10:00:00+00:00",
        ),
        "Монтаж фасада": (
            "Opportunity",
            str(ALICE),
            "Ирина",
            "+79162223344",
            "350000.00",
            "RUB",
            "",
            "",
            "2026-10-15T09:30:00+00:00",
        ),
        "Остекление балкона": (
            "Won",
            str(ALICE),
            "Пётр Иванов",
            "+74955551234",
            "45500.00",
            "RUB",
            "2026-09-30T15:00:00+00:00",
            "",
            "2026-09-05T12:00:00+00:00",
        ),
        "Двери в офис": (
            "Lost",
            "",
            "Сергей",
            "+79031112233",
            "80000.00",
            "USD",
            "2026-09-01T10:00:00+00:00",
            "Выбрали конкурента",
            "2026-08-10T16:45:00+00:00",
        ),
    }
    windows = next(r["id"] for r in exported(team) if r["title"] == "Поставка окон")
    assert notes(team, windows) == ["From Bitrix24:\nКомментарий: Перезвонить после 15:00"]
    before = exported(team)
    again = team.ok("import", "from", "bitrix24", export, "--map-stages", stages).stdout.splitlines()
    assert again[-1] == "Imported from Bitrix24: 0 new deal(s), 0 updated, 4 unchanged; skipped 0."
    assert exported(team) == before


HEADER = (
    "Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Owner,Deal - Stage,Deal - Status,"
    "Person - Phone\n"
)


def test_a_bad_row_refuses_the_whole_file_unless_skip_bad(team: Kanbot, tmp_path: Path) -> None:
    (tmp_path / "deals.csv").write_text(
        HEADER
        + "1,Good,100,EUR,Alice,,open,\n"
        + "2,Bad phone,100,EUR,Alice,,open,12345\n"
        + "3,Bad amount,lots,EUR,Alice,,open,\n"
        + "4,Bad status,100,EUR,Alice,,maybe,\n"
        + "5,Bad currency,100,EURO,Alice,,open,\n"
        + "1,Twice,100,EUR,Alice,,open,\n",
        encoding="utf-8",
    )
    result = team("import", "from", "pipedrive", "deals.csv")
    assert (result.exit_code, result.stdout) == (1, "")
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[0] for line in lines[:5]] == ["line 3", "line 4", "line 5", "line 6", "line 7"]
    assert "phone" in lines[0] and "lots" in lines[1] and "maybe" in lines[2] and "EURO" in lines[3]
    assert "line 2" in lines[4]
    assert lines[-1].startswith("Nothing was imported: 5 bad row(s)")
    assert exported(team) == []
    skipped = team("import", "from", "pipedrive", "deals.csv", "--skip-bad")
    assert skipped.exit_code == 0, skipped.stderr
    assert (
        skipped.stdout.splitlines()[-1]
        == "Imported from Pipedrive: 1 new deal(s), 0 updated, 0 unchanged; skipped 5."
    )
    assert skipped.stderr.startswith("skipped line 3: ")
    assert [r["title"] for r in exported(team)] == ["Good"]


def test_only_a_boss_imports_and_a_file_of_another_product_is_refused(team: Kanbot, tmp_path: Path) -> None:
    export = copy("pipedrive_deals.csv", tmp_path)
    stages = DATA / "pipedrive_stages.yaml"
    assert "import deals" in team.refused(
        "import", "from", "pipedrive", export, "--map-stages", stages, "--as", ALICE
    )
    assert "Kommo deals export" in team.refused("import", "from", "kommo", export)
    (tmp_path / "bad.yaml").write_text("stages: [a, b]\n", encoding="utf-8")
    assert "stages" in team.refused("import", "from", "pipedrive", export, "--map-stages", "bad.yaml")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    assert team.refused("import", "from", "kommo", "broken.xlsx").startswith(
        "Invalid XLSX file: 'broken.xlsx'"
    )
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    assert "the file is empty" in team.refused("import", "from", "bitrix24", "empty.csv")
    assert exported(team) == []
    done = team.ok("import", "from", "pipedrive", export, "--map-stages", stages, "--as", BOSS)
    assert (
        done.stdout.splitlines()[-1]
        == "Imported from Pipedrive: 4 new deal(s), 0 updated, 0 unchanged; skipped 0."
    )


def test_a_deal_reopened_or_lost_in_the_product_is_reopened_or_lost_by_the_next_import(
    team: Kanbot, tmp_path: Path
) -> None:
    export = copy("pipedrive_deals.csv", tmp_path)
    stages = DATA / "pipedrive_stages.yaml"
    team.ok("import", "from", "pipedrive", export, "--map-stages", stages)
    text = export.read_text(encoding="utf-8")
    text = text.replace("Maria Petrova,Proposal Made,,won,", "Maria Petrova,Proposal Made,,open,")
    text = text.replace(",,Lead In,,open,", ",,Lead In,,lost,")  # lost with no reason given
    export.write_text(text, encoding="utf-8")
    later = team.ok("import", "from", "pipedrive", export, "--map-stages", stages).stdout.splitlines()
    assert later[-1] == "Imported from Pipedrive: 0 new deal(s), 2 updated, 2 unchanged; skipped 0."
    now = deals(team)
    assert (now["Office chairs"][0], now["Office chairs"][6]) == ("Commercial offer", "")
    assert (now["Website redesign"][0], now["Website redesign"][7]) == ("Lost", "Lost in Pipedrive")
    chairs = next(r["id"] for r in exported(team) if r["title"] == "Office chairs")
    history = team.json("deal", "history", chairs, "--as", BOSS)
    assert [e["kind"] for e in history][-2:] == ["reopened", "moved"]
