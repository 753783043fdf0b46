"""Calls by the number they came in on (DID): a new caller's deal opens in the pipeline listing it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crm_core.adapters.database import Database
from crm_core.domain.deals import Deal
from crm_core.domain.users import Role, User
from crm_core.services import Crm
from crm_core.services.funnel import funnels_spec_from_document
from kanbot.cli import app
from telephony_bridge.providers.generic import parse_generic
from telephony_bridge.providers.payloads import PayloadError

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "ami"
BOSS, ALICE = 1, 201_000
RENEWALS_DID = "+74951234567"  # the DID every inbound call of tests/data/ami came in on (its Exten)


def two_pipelines(sales: dict[str, object]) -> dict[str, object]:
    return {
        "pipelines": [
            {"pipeline": "Sales", "default": True, "numbers": ["+74957000000"], "stages": sales["stages"]},
            {
                "pipeline": "Renewals",
                "numbers": [RENEWALS_DID],
                "stages": [
                    {"name": "New renewal", "kind": "inbox"},
                    {"name": "Renewed", "kind": "won"},
                    {"name": "Churned", "kind": "lost"},
                ],
            },
        ]
    }


async def configure(crm: Crm) -> User:
    """The default funnel plus Renewals on ``RENEWALS_DID``, a boss and Alice on extension 201."""
    await crm.pipelines.apply(funnels_spec_from_document(two_pipelines(await crm.pipelines.document())))
    await crm.users.add(telegram_id=ALICE, name="Alice", role=Role.SELLER, extensions=("201",))
    return await crm.users.ensure_boss(telegram_id=BOSS, name="Boss")


async def deals_by_pipeline(crm: Crm, boss: User) -> dict[str, list[Deal]]:
    names = {p.id: p.name for p in await crm.pipelines.list()}
    found: dict[str, list[Deal]] = {}
    for deal in await crm.deals.list_deals(actor=boss):
        found.setdefault(names[deal.pipeline_id], []).append(deal)
    return found


def generic(call_id: str, caller: str, **numbers: str) -> dict[str, object]:
    return {
        "call_id": call_id,
        "direction": "inbound",
        "status": "missed",
        "caller": caller,
        "rang": ["201"],
        "started_at": "2024-05-14T12:15:00+03:00",
        "ended_at": "2024-05-14T12:15:30+03:00",
        **numbers,
    }


async def test_a_generic_webhook_call_to_a_pipelines_did_opens_its_deal_there(crm: Crm) -> None:
    boss = await configure(crm)
    payloads = [
        generic("c1", "8 916 111-22-33", did="8 (495) 123-45-67"),  # Renewals' number, national format
        generic("c2", "8 916 222-33-44", dialed="+74951234567"),  # the same number, as `dialed`
        generic("c3", "8 916 333-44-55", dialed="+74957000000"),  # the default pipeline's own number
        generic("c4", "8 916 444-55-66", dialed="+74990001122"),  # a number no pipeline lists
        generic("c5", "8 916 555-66-77"),  # the PBX did not say
    ]
    for payload in payloads:
        for event in parse_generic(json.loads(json.dumps(payload)), region="RU"):
            await crm.calls.ingest_call(event)
    found = await deals_by_pipeline(crm, boss)
    assert sorted(d.contact.phone for d in found["Renewals"] if d.contact) == ["+79161112233", "+79162223344"]
    assert sorted(d.contact.phone for d in found["Sales"] if d.contact) == [
        "+79163334455",
        "+79164445566",
        "+79165556677",
    ]
    assert {d.stage.name for d in found["Renewals"]} == {"New renewal"}
    assert {d.stage.name for d in found["Sales"]} == {"Unsorted"}


def test_the_generic_webhook_refuses_a_did_that_is_not_the_number_dialed() -> None:
    payload = generic("c1", "8 916 111-22-33", did="+74951234567", dialed="+74957000000")
    with pytest.raises(PayloadError, match="did"):
        parse_generic(payload, region="RU")
    same = parse_generic(
        generic("c2", "8 916 111-22-33", did="+74951234567", dialed="8 495 123-45-67"), region="RU"
    )
    assert same[0].did == "+74951234567"


async def test_a_known_callers_call_to_another_pipelines_did_joins_their_open_deal(crm: Crm) -> None:
    boss = await configure(crm)
    await crm.calls.ingest_call(parse_generic(generic("c1", "8 916 111-22-33"), region="RU")[0])
    await crm.calls.ingest_call(
        parse_generic(generic("c2", "8 916 111-22-33", did=RENEWALS_DID), region="RU")[0]
    )
    found = await deals_by_pipeline(crm, boss)
    assert list(found) == ["Sales"] and len(found["Sales"]) == 1


def test_an_asterisk_call_to_a_pipelines_did_opens_its_deal_there(database_url: str) -> None:
    async def seed() -> None:
        db = Database(database_url)
        crm = Crm(db)
        await crm.pipelines.seed_defaults()
        await configure(crm)
        await db.dispose()

    async def deals() -> dict[str, list[Deal]]:
        db = Database(database_url)
        crm = Crm(db)
        found = await deals_by_pipeline(crm, await crm.users.identify(BOSS))
        await db.dispose()
        return found

    asyncio.run(seed())
    result = CliRunner().invoke(
        app,
        ["bridge", "replay", str(CAPTURES / "answered_direct.txt"), "--ingest", "--region", "RU"],
        env={"KANBOT_DATABASE_URL": database_url, "KANBOT_DEFAULT_REGION": "RU"},
    )
    assert result.exit_code == 0, result.output
    found = asyncio.run(deals())
    assert list(found) == ["Renewals"]
    (deal,) = found["Renewals"]
    assert deal.contact is not None and deal.contact.phone == "+79161112233"
    assert deal.stage.name == "New renewal"
    assert deal.owner is not None and deal.owner.telegram_id == ALICE
