"""`kanbot bridge replay --ingest`: captured Asterisk calls become the right deals, owners and call-backs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crm_core.adapters.database import Database
from crm_core.domain.deals import Source
from crm_core.domain.tasks import TaskKind
from crm_core.domain.users import Role
from crm_core.services import Crm
from kanbot.cli import app

CAPTURES = Path(__file__).resolve().parents[1] / "data" / "ami"
BOSS, ALICE, BOB, CAROL = 1, 201_000, 202_000, 203_000
EXTENSIONS = {"201": ALICE, "202": BOB, "203": CAROL}

# capture -> (caller, owner's Telegram id or None for "none", source, call-back task expected)
EXPECTED: dict[str, tuple[str | None, int | None, Source | None, bool]] = {
    "answered_direct.txt": ("+79161112233", ALICE, Source.CALL, False),
    "answered_queue.txt": ("+79162223344", ALICE, Source.CALL, False),
    "answered_ringall.json": ("+74957654321", BOB, Source.CALL, False),
    "attended_transfer.json": ("+79166667788", ALICE, Source.CALL, False),
    "blind_transfer.txt": ("+79165556677", ALICE, Source.CALL, False),
    "forward_mobile_not_accepted.json": ("+79164445566", ALICE, Source.MISSED_CALL, True),
    "missed_queue_abandon.txt": ("+79163334455", ALICE, Source.MISSED_CALL, True),
    "missed_ringgroup_noanswer.json": ("+79175556677", ALICE, Source.MISSED_CALL, True),
    "internal_call.txt": (None, None, None, False),
    "outbound_call.json": (None, None, None, False),
}


def seed(database_url: str) -> None:
    async def go() -> None:
        db = Database(database_url)
        crm = Crm(db)
        await crm.pipelines.seed_defaults()
        await crm.users.ensure_boss(telegram_id=BOSS, name="Boss")
        for extension, telegram_id in EXTENSIONS.items():
            await crm.users.add(
                telegram_id=telegram_id, name=f"Seller {extension}", role=Role.SELLER, extensions=(extension,)
            )
        await db.dispose()

    asyncio.run(go())


def state(database_url: str) -> tuple[list[object], list[object]]:
    async def go() -> tuple[list[object], list[object]]:
        db = Database(database_url)
        crm = Crm(db)
        boss = await crm.users.identify(BOSS)
        deals = await crm.deals.list_deals(actor=boss)
        tasks = await crm.tasks.open_tasks(actor=boss, everyone=True)
        await db.dispose()
        return list(deals), list(tasks)

    return asyncio.run(go())


def ingest(database_url: str, capture: str) -> str:
    result = CliRunner().invoke(
        app,
        ["bridge", "replay", str(CAPTURES / capture), "--ingest", "--region", "RU"],
        env={"KANBOT_DATABASE_URL": database_url, "KANBOT_DEFAULT_REGION": "RU"},
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("capture", sorted(EXPECTED))
def test_each_capture_makes_the_deal_owner_and_call_back_it_should(database_url: str, capture: str) -> None:
    seed(database_url)
    ingest(database_url, capture)
    caller, owner, source, call_back = EXPECTED[capture]
    deals, tasks = state(database_url)
    if caller is None:
        assert deals == []
        assert tasks == []
        return
    [deal] = deals
    assert deal.contact.phone == caller  # type: ignore[attr-defined]
    assert deal.owner.telegram_id == owner  # type: ignore[attr-defined]
    assert deal.source is source  # type: ignore[attr-defined]
    assert deal.stage.kind.value == "inbox"  # type: ignore[attr-defined]
    if call_back:
        [task] = tasks
        assert task.kind is TaskKind.CALL_BACK  # type: ignore[attr-defined]
        assert task.deal_id == deal.id  # type: ignore[attr-defined]
        assert task.assignee_name == f"Seller {next(e for e, t in EXTENSIONS.items() if t == owner)}"  # type: ignore[attr-defined]
    else:
        assert tasks == []


def test_a_caller_who_hung_up_before_anything_rang_gets_a_call_back_from_the_next_seller_in_turn(
    database_url: str,
) -> None:
    seed(database_url)
    ingest(database_url, "missed_hangup_before_ring.txt")
    [deal], [task] = state(database_url)
    assert deal.owner is not None  # type: ignore[attr-defined]
    assert task.assignee_id == deal.owner.id  # type: ignore[attr-defined]


def test_replaying_every_capture_twice_changes_nothing_the_second_time(database_url: str) -> None:
    seed(database_url)
    for capture in sorted(EXPECTED):
        ingest(database_url, capture)
    first = state(database_url)
    for capture in sorted(EXPECTED):
        assert "duplicate" in ingest(database_url, capture) or "ingested" not in ingest(database_url, capture)
    second = state(database_url)
    assert [d.id for d in second[0]] == [d.id for d in first[0]]  # type: ignore[attr-defined]
    assert [t.id for t in second[1]] == [t.id for t in first[1]]  # type: ignore[attr-defined]
