"""A missed call then an answered one from the same number, seen from the command line: no call-back
left open, and the calls report counts the missed call as returned, with the minutes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from crm_core.adapters.database import Database
from crm_core.domain.calls import CallEvent, CallStatus
from crm_core.services import Crm
from tests.cli.support import ALICE, BOB, BOSS, Kanbot
from tests.integration.test_ingest_call import ANSWERED, MISSED, call

CUSTOMER = "+74951234567"


def _ingest(kanbot: Kanbot, *events: CallEvent) -> None:
    async def go() -> None:
        db = Database(kanbot.database_url)
        try:
            crm = Crm(db)
            for event in events:
                await crm.calls.ingest_call(event)
        finally:
            await db.dispose()

    asyncio.run(go())


def _the_customer_calls(status: CallStatus, call_id: str, at: datetime) -> CallEvent:
    return call(call_id, at, caller=CUSTOMER, status=status, rang=("101",), answered_by="101")


def test_a_missed_call_answered_later_is_returned_and_leaves_no_call_back(team: Kanbot) -> None:
    missed_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    _ingest(team, _the_customer_calls(MISSED, "m1", missed_at))
    (task,) = team.json("task", "list", "--as", ALICE)
    assert (task["kind"], task["phone"], task["attempts"]) == ("call_back", CUSTOMER, 0)
    assert task["text"].startswith("Call back +")  # the CLI words it in English from its number

    _ingest(team, _the_customer_calls(ANSWERED, "a1", missed_at + timedelta(minutes=12)))
    assert team.json("task", "list", "--as", ALICE) == []
    report = team.json("report", "calls", "--as", BOSS)
    figures = {
        "answered": 1,
        "missed": 1,
        "returned": 1,
        "never_returned": 0,
        "median_minutes_to_call_back": 12.1,  # answered 5 s into the call
        "outbound": 0,
        "outbound_connected": 0,
        "without_outcome": 1,
    }
    assert report["team"] == figures
    nothing = dict.fromkeys(figures, 0) | {"median_minutes_to_call_back": None}
    assert set(report["period"]) == {"from", "to"}
    assert report["sellers"] == [
        {"telegram_id": ALICE, "name": "Alice", **figures},
        {"telegram_id": BOB, "name": "Bob", **nothing},
    ]
    table = team.ok("report", "calls", "--as", BOSS).stdout.splitlines()
    assert table[-1].split()[:5] == ["Team", "1", "1", "1", "0"]
    assert "see another seller" in team.refused("report", "calls", "--as", ALICE, "--seller", BOB)
