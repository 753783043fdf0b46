"""`kanbot init`, `db upgrade`, settings, and `kanbot user ...`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import ALICE, BOB, BOSS, Kanbot

STAGES = " → ".join(
    [
        "Unsorted",
        "Opportunity",
        "Commercial offer",
        "Document approval",
        "Signing & payment",
        "Execution",
        "Won",
        "Lost",
    ]
)


def test_init_seeds_the_funnel_and_the_first_boss_and_running_it_again_is_harmless(kanbot: Kanbot) -> None:
    first = kanbot.ok("init", "--boss-telegram-id", BOSS, "--boss-name", "Ольга")
    assert f"Funnel: {STAGES}" in first.stdout
    assert f"Boss: Ольга (Telegram id {BOSS})" in first.stdout
    again = kanbot.ok("init", "--boss-telegram-id", BOSS, "--boss-name", "Ольга")
    assert again.stdout == first.stdout
    assert kanbot.json("user", "list") == [
        {
            "telegram_id": BOSS,
            "name": "Ольга",
            "role": "boss",
            "extensions": [],
            "timezone": "UTC",
            "locale": "en",
            "active": True,
        }
    ]
    assert len(kanbot.json("pipeline", "show")["stages"]) == 8


def test_bosses_named_in_the_settings_are_made_at_init(kanbot: Kanbot) -> None:
    kanbot("init", env={"KANBOT_BOSS_IDS": "7, 8"})
    assert sorted(u["telegram_id"] for u in kanbot.json("user", "list")) == [7, 8]


def test_a_database_that_was_never_set_up_is_refused_with_what_to_run(kanbot: Kanbot, tmp_path: Path) -> None:
    elsewhere = {"KANBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"}
    result = kanbot("user", "list", env=elsewhere)
    assert result.exit_code == 1
    assert "run `kanbot init`" in result.stderr
    assert kanbot("db", "upgrade", env=elsewhere).exit_code == 0
    assert kanbot("db", "upgrade", env=elsewhere).exit_code == 0  # a second time changes nothing
    assert kanbot("user", "list", env=elsewhere).exit_code == 0


def test_a_database_that_cannot_be_reached_is_reported_in_one_sentence(
    kanbot: Kanbot, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        missing = "sqlite+aiosqlite:////proc/no-such-dir/kanbot.db"  # a folder that cannot be made
    else:
        missing = database_url.rsplit("/", 1)[0] + "/kanbot_no_such_database"
    result = kanbot("user", "list", env={"KANBOT_DATABASE_URL": missing})
    assert (result.exit_code, result.stdout) == (1, "")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_data_commands_before_init_say_to_run_init(kanbot: Kanbot) -> None:
    assert "kanbot init" in kanbot.refused("pipeline", "show")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KANBOT_DEFAULT_REGION", "XYZ"),
        ("KANBOT_DEFAULT_CURRENCY", "rubles"),
        ("KANBOT_DATABASE_URL", "mysql://localhost/kanbot"),
        ("KANBOT_CALLS_CREATE_DEALS", "sometimes"),
        ("KANBOT_CALL_BACK_MINUTES", "0"),
        ("KANBOT_OWN_NUMBERS", "+7 495 000-00-00, not-a-phone"),
    ],
)
def test_an_invalid_setting_stops_start_up_with_one_message_naming_it(
    kanbot: Kanbot, name: str, value: str
) -> None:
    result = kanbot("user", "list", env={name: value})
    assert result.exit_code == 1
    assert result.stdout == ""
    message = result.stderr.strip()
    assert message.startswith(f"Invalid setting {name}: ")
    assert "\n" not in message


def test_a_setting_in_the_env_file_of_the_folder_kanbot_runs_in_is_read(
    kanbot: Kanbot, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("KANBOT_DEFAULT_REGION=XYZ\n")
    assert kanbot.refused("user", "list").startswith("Invalid setting KANBOT_DEFAULT_REGION")


def test_people_are_added_listed_and_deactivated(team: Kanbot) -> None:
    added = team.json(
        "user",
        "add",
        "--telegram-id",
        300,
        "--name",
        "أحمد",
        "--role",
        "seller",
        "--extension",
        "103",
        "--extension",
        "104",
        "--tz",
        "Asia/Dubai",
        "--locale",
        "ar",
    )
    assert added == {
        "telegram_id": 300,
        "name": "أحمد",
        "role": "seller",
        "extensions": ["103", "104"],
        "timezone": "Asia/Dubai",
        "locale": "ar",
        "active": True,
    }
    listed = team.json("user", "list")
    assert listed[0]["role"] == "boss"  # bosses first, then by name (in the database's collation)
    assert sorted((u["telegram_id"], u["role"]) for u in listed) == [
        (BOSS, "boss"),
        (ALICE, "seller"),
        (BOB, "seller"),
        (300, "seller"),
    ]
    team.ok("deal", "add", "--as", 300, "--title", "Open deal")
    gone = team.json("user", "deactivate", 300, "--hand-over-to", BOB)
    assert (gone["active"], gone["deals_handed_over"]) == (False, 1)
    assert "Deactivated Alice; 0 open deal(s) handed over." in team.ok("user", "deactivate", ALICE).stdout
    assert team.refused("deal", "list", "--as", 300) == "No user 300 was found."
    table = team.ok("user", "list").stdout.splitlines()
    assert table[0].split() == ["telegram_id", "name", "role", "extensions", "tz", "locale", "active"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--telegram-id", ALICE, "--name", "Again", "--role", "seller"],
            f"Telegram id {ALICE} already exists",
        ),
        (["--telegram-id", 300, "--name", "X", "--role", "seller", "--extension", "101"], "Extension 101"),
        (["--telegram-id", 300, "--name", "X", "--role", "seller", "--tz", "Mars/Base"], "timezone"),
        (["--telegram-id", 300, "--name", "X", "--role", "seller", "--locale", "fr"], "locale"),
        (["--telegram-id", 300, "--name", " ", "--role", "seller"], "name"),
    ],
)
def test_a_person_who_cannot_be_added_is_refused_in_one_sentence_and_nobody_is_added(
    team: Kanbot, args: list[object], message: str
) -> None:
    before = team.json("user", "list")
    assert message in team.refused("user", "add", *args)
    assert team.json("user", "list") == before


def test_a_wrong_role_or_a_missing_option_is_a_usage_error(team: Kanbot) -> None:
    assert team("user", "add", "--telegram-id", 300, "--name", "X", "--role", "king").exit_code == 2
    assert team("user", "add", "--telegram-id", 300, "--role", "seller").exit_code == 2
    assert team("user", "deactivate", "not-a-number").exit_code == 2
    assert team("deal", "list").exit_code == 2  # --as is required
