"""`kanbot form create|list|remove`: a form's key, where its leads go, and a removed form's key stopping."""

from __future__ import annotations

from tests.cli.support import ALICE, Kanbot


def test_a_form_is_made_with_a_fresh_key_listed_and_removed(team: Kanbot) -> None:
    made = team.json("form", "create", "--name", "Website", "--owner", ALICE, "--json")
    other = team.json("form", "create", "--name", "Landing page", "--json")

    assert set(made) == {"id", "name", "key"} and made["name"] == "Website"
    assert len(made["key"]) >= 20 and made["key"] != other["key"]
    listed = team.json("form", "list", "--json")
    assert [(f["name"], f["key"]) for f in listed] == [
        ("Website", made["key"]),
        ("Landing page", other["key"]),
    ]
    assert listed[0]["owner_id"] is not None and listed[1]["owner_id"] is None

    team.ok("form", "remove", str(made["id"]))

    assert [f["name"] for f in team.json("form", "list", "--json")] == ["Landing page"]
    assert "form" in team.refused("form", "remove", str(made["id"])).lower()


def test_a_form_for_an_unknown_pipeline_or_owner_is_refused_and_not_made(team: Kanbot) -> None:
    team.refused("form", "create", "--name", "Website", "--pipeline", "No such pipeline")
    team.refused("form", "create", "--name", "Website", "--owner", "424242")
    team.refused("form", "create", "--name", "   ")

    assert team.json("form", "list", "--json") == []
