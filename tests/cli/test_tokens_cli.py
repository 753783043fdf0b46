"""`kanbot token create|list|revoke`: a token's secret is printed once and stored only as its digest."""

from __future__ import annotations

import asyncio
import hashlib

from sqlalchemy import text

from crm_core.adapters.database import Database
from tests.cli.support import ALICE, BOB, BOSS, Kanbot


def stored_hashes(kanbot: Kanbot) -> list[str]:
    async def read() -> list[str]:
        db = Database(kanbot.database_url)
        try:
            async with db.engine.connect() as conn:
                return [
                    row[0]
                    for row in await conn.execute(text("SELECT token_hash FROM api_tokens ORDER BY id"))
                ]
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_a_token_is_printed_once_and_stored_as_its_sha256(team: Kanbot) -> None:
    made = team.json(
        "token", "create", "--as", ALICE, "--name", "Website", "--scope", "read", "--expires", "90d"
    )

    assert set(made) == {"id", "name", "token", "scope", "expires_at"}
    assert made["token"].startswith("kbt_") and len(made["token"]) > 40
    assert (made["name"], made["scope"]) == ("Website", "read") and made["expires_at"]
    assert stored_hashes(team) == [hashlib.sha256(made["token"].encode()).hexdigest()]
    listed = team.ok("token", "list", "--as", ALICE, "--json").stdout
    assert made["token"] not in listed and '"Website"' in listed


def test_a_boss_lists_every_token_and_a_seller_only_their_own(team: Kanbot) -> None:
    team.json("token", "create", "--as", ALICE, "--name", "Alice's script")
    team.json("token", "create", "--as", BOB, "--name", "Bob's sheet")

    assert [t["name"] for t in team.json("token", "list", "--as", BOSS)] == ["Alice's script", "Bob's sheet"]
    assert [t["name"] for t in team.json("token", "list", "--as", BOB)] == ["Bob's sheet"]


def test_a_seller_revokes_their_own_token_but_not_anothers(team: Kanbot) -> None:
    alices = team.json("token", "create", "--as", ALICE, "--name", "A")
    bobs = team.json("token", "create", "--as", BOB, "--name", "B")

    refused = team.refused("token", "revoke", bobs["id"], "--as", ALICE)
    revoked = team.json("token", "revoke", alices["id"], "--as", ALICE)

    assert refused == f"No API token {bobs['id']} was found."
    assert revoked["revoked_at"] is not None
    [bob_token] = team.json("token", "list", "--as", BOB)
    assert bob_token["revoked_at"] is None
    boss_revoked = team.json("token", "revoke", bobs["id"], "--as", BOSS)
    assert boss_revoked["revoked_at"] is not None


def test_bad_options_are_refused_and_make_no_token(team: Kanbot) -> None:
    assert "scope" in team.refused("token", "create", "--as", ALICE, "--name", "X", "--scope", "admin")
    assert "expires" in team.refused("token", "create", "--as", ALICE, "--name", "X", "--expires", "soon")
    assert "name" in team.refused("token", "create", "--as", ALICE, "--name", "  ")
    assert team.json("token", "list", "--as", BOSS) == []
