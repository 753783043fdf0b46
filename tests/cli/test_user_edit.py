"""`kanbot user edit`: a person's name, role, extensions, time zone and language, all or nothing."""

from __future__ import annotations

import pytest

from tests.cli.support import ALICE, BOB, BOSS, Kanbot


def _person(team: Kanbot, telegram_id: int) -> dict[str, object]:
    return next(u for u in team.json("user", "list") if u["telegram_id"] == telegram_id)  # type: ignore[no-any-return]


def test_editing_changes_what_is_given_and_the_extensions_given_replace_the_old_ones(team: Kanbot) -> None:
    edited = team.json(
        "user", "edit", ALICE, "--name", "Alice B", "--extension", "105", "--extension", "106",
        "--tz", "Asia/Dubai", "--locale", "ar",
    )  # fmt: skip
    assert edited == {
        "telegram_id": ALICE,
        "name": "Alice B",
        "role": "seller",
        "extensions": ["105", "106"],
        "timezone": "Asia/Dubai",
        "locale": "ar",
        "active": True,
    }
    assert _person(team, ALICE) == edited
    assert team.json("user", "edit", ALICE, "--role", "boss")["extensions"] == ["105", "106"]
    text = team.ok("user", "edit", BOB, "--tz", "new york").stdout
    assert "Bob (202): seller, extensions none, America/New_York, ru." in text


def test_a_city_in_russian_or_arabic_is_read_as_its_time_zone(team: Kanbot) -> None:
    assert team.json("user", "edit", BOB, "--tz", "Екатеринбург")["timezone"] == "Asia/Yekaterinburg"
    assert team.json("user", "edit", BOB, "--tz", "دبي")["timezone"] == "Asia/Dubai"


def test_an_extension_of_another_active_user_is_refused_with_their_name(team: Kanbot) -> None:
    before = team.json("user", "list")
    assert team.refused("user", "edit", BOB, "--extension", "107", "--extension", "101", "--name", "B") == (
        "Extension 101 already belongs to Alice."
    )
    assert team.json("user", "list") == before


def test_the_extension_of_someone_who_left_goes_to_whoever_gets_it_next(team: Kanbot) -> None:
    team.ok("user", "deactivate", ALICE)
    assert team.json("user", "edit", BOB, "--extension", "101")["extensions"] == ["101"]
    assert _person(team, ALICE)["extensions"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tz", "Mars/Olympus"], "Invalid timezone: 'Mars/Olympus'"),
        (["--locale", "fr"], "Invalid locale: 'fr' (one of en, ru, ar)."),
        (["--role", "king"], "Invalid role: 'king' (seller or boss)."),
        (["--extension", "10 1"], "Invalid extension: '10 1'."),
        (["--name", " "], "Invalid name"),
    ],
)
def test_a_bad_value_is_refused_in_one_sentence_and_nothing_changes(
    team: Kanbot, args: list[str], message: str
) -> None:
    before = team.json("user", "list")
    refusal = team.refused("user", "edit", ALICE, "--name", "Alice B", *args)
    assert refusal.startswith(message) and "\n" not in refusal.strip()
    assert team.json("user", "list") == before


def test_someone_unknown_is_not_found_and_the_last_boss_stays_a_boss(team: Kanbot) -> None:
    assert team.refused("user", "edit", 999, "--name", "X") == "No user 999 was found."
    assert "at least one active boss" in team.refused("user", "edit", BOSS, "--role", "seller")
    assert _person(team, BOSS)["role"] == "boss"
