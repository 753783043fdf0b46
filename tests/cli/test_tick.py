"""`kanbot tick --now`: one scheduler tick by hand, at any time; and two processes ticking together on
PostgreSQL send each reminder, escalation, morning plan and digest exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crm_core.adapters.database import Database
from crm_core.domain.notifications import NoteKind
from crm_core.domain.recordings import RecordingNotice
from crm_core.domain.users import Role
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.cli.support import ALICE, BOB, Kanbot
from tests.integration.test_ingest_call import call
from tests.integration.test_recording_carriers import WAV
from tests.support.databases import POSTGRES_ONLY

MONDAY_7AM = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
KANBOT = Path(sys.executable).with_name("kanbot")


def at(hour: int, minute: int = 0) -> str:
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC).isoformat()


def with_crm(database_url: str, work: Any) -> Any:
    """Run ``work(crm)`` on the database with the clock stopped at Monday 07:00 UTC."""

    async def go() -> Any:
        db = Database(database_url)
        try:
            return await work(Crm(db, clock=FixedClock(MONDAY_7AM)))
        finally:
            await db.dispose()

    return asyncio.run(go())


def queued(database_url: str) -> list[dict[str, Any]]:
    async def read(crm: Crm) -> list[dict[str, Any]]:
        async with crm.db.uow(write=False) as uow:
            return await uow.outbox.pending(limit=10_000)

    rows: list[dict[str, Any]] = with_crm(database_url, read)
    return rows


def deals_for(database_url: str, owners: dict[int, int]) -> None:
    """``owners[telegram_id]`` new deals each, in Unsorted at 07:00: stale at 09:00."""

    async def create(crm: Crm) -> None:
        for telegram_id, count in owners.items():
            seller = await crm.users.identify(telegram_id)
            for number in range(count):
                await crm.deals.create(actor=seller, title=f"{seller.name}'s deal {number}")

    with_crm(database_url, create)


def test_tick_now_queues_what_is_due_at_that_time_once_and_says_so_in_json(team: Kanbot) -> None:
    deals_for(team.database_url, {ALICE: 2, BOB: 1})
    early = team.json("tick", "--now", at(8, 59))
    assert {k: v for k, v in early.items() if k not in ("details",)} == {
        "at": at(8, 59),
        "reminders": 0,
        "reminded_deals": 0,
        "escalations": 0,
        "tasks_due": 0,
        "repeats": 0,
        "morning_plans": 1,  # Bob's: 11:59 in Moscow; Alice's day has not begun
        "digests": 0,
        "recordings_fetched": 0,  # no KANBOT_RECORDINGS_DIR: none is fetched or kept
        "recordings_deleted": 0,
    }
    due = team.json("tick", "--now", "2026-03-02T12:00:00+03:00")  # 09:00 UTC, with an offset
    assert due["at"] == "2026-03-02T12:00:00+03:00"
    # Alice's plan comes now with her two deals' reminder in it; Bob's came at 08:59, his reminder comes alone
    assert (due["reminders"], due["reminded_deals"], due["morning_plans"], due["digests"]) == (1, 3, 1, 1)
    assert "morning plan to Alice, deals [1, 2]" in due["details"]
    assert "reminder to Bob: deals [3]" in due["details"] and "digest to Boss" in due["details"]
    again = team.json("tick", "--now", at(9, 0))
    assert sum(v for k, v in again.items() if isinstance(v, int)) == 0
    kinds = Counter(row["kind"] for row in queued(team.database_url))
    assert kinds == {NoteKind.STALE_REMINDER: 1, NoteKind.MORNING_PLAN: 2, NoteKind.DIGEST: 1}


def test_tick_prints_one_line_and_the_details_for_people(team: Kanbot) -> None:
    deals_for(team.database_url, {ALICE: 1})
    lines = team.ok("tick", "--now", at(9, 30)).stdout.splitlines()
    assert lines[0] == (
        "reminders 0, reminded_deals 1, escalations 0, tasks_due 0, repeats 0, morning_plans 2, digests 1,"
        f" recordings_fetched 0, recordings_deleted 0 (at {at(9, 30)})"
    )
    assert "  morning plan to Alice, deals [1]" in lines and "  digest to Boss" in lines


def test_tick_fetches_the_recordings_due_and_deletes_those_past_their_retention_period(
    team: Kanbot, tmp_path: Path
) -> None:
    kept, monitor = tmp_path / "kept", tmp_path / "monitor"
    env = {
        "KANBOT_RECORDINGS_DIR": str(kept),
        "KANBOT_RECORDINGS_KEEP_DAYS": "30",
        "KANBOT_AMI_RECORDINGS_DIR": str(monitor),  # this host shares Asterisk's MixMonitor directory
    }

    async def answered_and_recorded(crm: Crm) -> None:
        await crm.calls.ingest_call(call("1716531234.12", MONDAY_7AM))
        await crm.recordings.note(RecordingNotice("asterisk", "1716531234.12", "1716531234.12.wav"))

    with_crm(team.database_url, answered_and_recorded)
    monitor.mkdir()
    (monitor / "1716531234.12.wav").write_bytes(WAV)
    written = time.time() - 60  # MixMonitor is done with it
    os.utime(monitor / "1716531234.12.wav", (written, written))

    def tick(now: str) -> dict[str, Any]:
        result = team("tick", "--now", now, "--json", env=env)
        assert result.exit_code == 0, result.stderr
        report: dict[str, Any] = json.loads(result.stdout)
        return report

    fetched = tick(at(9))
    assert (fetched["recordings_fetched"], fetched["recordings_deleted"]) == (1, 0)
    assert [path.read_bytes() for path in kept.iterdir()] == [WAV]
    assert tick(at(9, 1))["recordings_fetched"] == 0  # fetched once
    expired = tick("2026-04-02T09:00:00+00:00")  # 31 days on
    assert (expired["recordings_fetched"], expired["recordings_deleted"]) == (0, 1)
    assert list(kept.iterdir()) == []


@pytest.mark.parametrize(
    ("now", "message"),
    [
        ("2026-03-02T09:00:00", "--now needs a time zone offset, e.g. 2026-03-02T09:00:00+03:00."),
        ("monday", "--now 'monday' is not an ISO 8601 time, e.g. 2026-03-02T09:00:00+03:00."),
    ],
)
def test_tick_refuses_a_time_it_cannot_place_and_queues_nothing(team: Kanbot, now: str, message: str) -> None:
    assert team.refused("tick", "--now", now) == message
    assert queued(team.database_url) == []


# -- two processes --------------------------------------------------------------------------------


def tick_together(database_url: str, now: str, cwd: Path, processes: int = 2) -> list[dict[str, Any]]:
    """Start ``processes`` real `kanbot tick --now` processes at once; their JSON reports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KANBOT_")}
    env["KANBOT_DATABASE_URL"] = database_url
    running = [
        subprocess.Popen(
            [str(KANBOT), "tick", "--now", now, "--json"],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    reports = []
    for process in running:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        reports.append(json.loads(out))
    return reports


@pytest.mark.slow
@POSTGRES_ONLY  # SQLite serves one Kanbot process; ticking together is a PostgreSQL setting
def test_two_processes_ticking_together_send_everything_exactly_once(
    database_url: str, tmp_path: Path
) -> None:

    async def scene(crm: Crm) -> dict[str, Any]:
        await crm.pipelines.seed_defaults()
        bosses = [
            await crm.users.add(telegram_id=100 + i, name=f"Boss {i}", role=Role.BOSS) for i in range(2)
        ]
        sellers = [
            await crm.users.add(telegram_id=200 + i, name=f"Seller {i}", role=Role.SELLER) for i in range(4)
        ]
        deals = [await crm.deals.create(actor=s, title=f"Deal {n}") for s in sellers for n in range(3)]
        return {"bosses": bosses, "sellers": sellers, "deals": deals}

    world = with_crm(database_url, scene)
    reports = []
    for now in (at(9, 0), at(11, 0), at(11, 5)):  # everything due at once; escalations; nothing new
        reports += tick_together(database_url, now, tmp_path)
    rows = queued(database_url)

    def of(kind: str) -> list[dict[str, Any]]:
        return [r for r in rows if r["kind"] == kind]

    sellers = sorted(s.id for s in world["sellers"])
    bosses = sorted(b.id for b in world["bosses"])
    # each deal's period once, in its seller's morning plan: one message each, not a plan and a reminder
    assert of(NoteKind.STALE_REMINDER) == []
    assert sorted(r["recipient_id"] for r in of(NoteKind.MORNING_PLAN)) == sellers
    for row in of(NoteKind.MORNING_PLAN):
        owned = [d.id for d in world["deals"] if d.owner_id == row["recipient_id"]]
        assert sorted(row["payload"]["deal_ids"]) == sorted(owned)
    assert sorted(r["recipient_id"] for r in of(NoteKind.DIGEST)) == bosses
    assert sorted(r["recipient_id"] for r in of(NoteKind.ESCALATION)) == bosses
    for row in of(NoteKind.ESCALATION):  # every stale deal, in the one message each boss gets
        assert sorted(i["deal_id"] for i in row["payload"]["items"]) == sorted(d.id for d in world["deals"])
    # and what the processes said they did adds up to what is queued
    total = Counter[str]()
    for report in reports:
        total.update({k: v for k, v in report.items() if isinstance(v, int)})
    assert (total["reminded_deals"], total["morning_plans"], total["digests"]) == (12, 4, 2)
    assert total["escalations"] == 12 and len(reports) == 6
