"""`kanbot hooks add|list|remove|test|log`: endpoints other systems register, and what went to them."""

from __future__ import annotations

import asyncio

import pytest

from crm_core.adapters.database import Database
from crm_core.domain.errors import NotAllowed
from crm_core.services import Crm
from tests.cli.support import ALICE, Kanbot

URL = "https://erp.example.com/kanbot"


def test_an_endpoint_is_added_listed_pinged_and_removed(team: Kanbot) -> None:
    added = team.json(
        "hooks", "add", URL, "--events", "deal.won,deal.lost,deal.won", "--secret", "s3cret-s3cret-s3cret"
    )

    assert added["url"] == URL and added["events"] == ["deal.won", "deal.lost"]
    assert added["secret"] == "s3cret-s3cret-s3cret"
    listed = team.json("hooks", "list")
    assert [(h["id"], h["url"]) for h in listed] == [(added["id"], URL)] and "secret" not in listed[0]
    assert "queued" in team.ok("hooks", "test", added["id"]).stdout
    [ping] = team.json("hooks", "log")
    assert (ping["event"], ping["status"], ping["attempts"]) == ("ping", "pending", 0)
    assert team.json("hooks", "log", "--failed") == []

    team.ok("hooks", "remove", added["id"])

    assert team.json("hooks", "list") == []
    [gone] = team.json("hooks", "log", "--failed")  # what still waited for it will never go
    assert (gone["id"], gone["last_error"]) == (ping["id"], "endpoint removed")


def test_an_endpoint_without_a_secret_gets_a_new_one(team: Kanbot) -> None:
    first = team.json("hooks", "add", URL, "--events", "deal.created")
    second = team.json("hooks", "add", URL, "--events", "deal.created")

    assert first["secret"].startswith("whsec_") and len(first["secret"]) > 30
    assert first["secret"] != second["secret"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("ftp://erp.example.com", "--events", "deal.won"), "url"),
        ((URL, "--events", "deal.sold"), "events"),
        ((URL, "--events", ","), "events"),
        ((URL, "--events", "deal.won", "--secret", "short"), "secret"),
    ],
)
def test_a_bad_endpoint_is_refused_and_nothing_is_added(
    team: Kanbot, args: tuple[str, ...], says: str
) -> None:
    message = team.refused("hooks", "add", *args)

    assert says in message
    assert team.json("hooks", "list") == []


def test_an_unknown_endpoint_is_not_found(team: Kanbot) -> None:
    assert team.refused("hooks", "remove", 42) == "No webhook 42 was found."
    assert team.refused("hooks", "test", 42) == "No webhook 42 was found."


def test_a_seller_may_not_manage_webhooks(team: Kanbot) -> None:
    async def try_it() -> None:
        db = Database(team.database_url)
        try:
            crm = Crm(db)
            seller = await crm.users.identify(ALICE)
            with pytest.raises(NotAllowed):
                await crm.webhooks.add(actor=seller, url=URL, events="deal.won")
            with pytest.raises(NotAllowed):
                await crm.webhooks.log(actor=seller)
        finally:
            await db.dispose()

    asyncio.run(try_it())
    assert team.json("hooks", "list") == []
