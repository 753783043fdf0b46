"""The calls report (docs/reports.md, "Calls") against figures worked out by hand, and the digest's
list of missed calls not called back, which holds only customers nobody reached."""

from __future__ import annotations

from datetime import timedelta

from crm_core.ports import FixedClock
from crm_core.reports.models import CallFigures, Period
from crm_core.services import Crm
from tests.conftest import T0
from tests.integration.support import Team
from tests.integration.test_ingest_call import ANSWERED, MISSED, OFFICE, OUTBOUND, call

M, H = timedelta(minutes=1), timedelta(hours=1)
A, B, C, D = "+74951111111", "+74952222222", "+74953333333", "+74954444444"


async def _day_of_calls(crm: Crm, clock: FixedClock) -> None:
    """Answered calls are answered 5 s after they start (see ``call``); so are the outbound ones."""

    async def at(minute: int, *events: object) -> None:
        clock.current = T0 + minute * M
        for event in events:
            await crm.calls.ingest_call(event)  # type: ignore[arg-type]

    def out(call_id: str, minute: int, number: str, *, ext: str, connected: bool) -> object:
        status = ANSWERED if connected else MISSED
        return call(
            call_id,
            T0 + minute * M,
            direction=OUTBOUND,
            status=status,
            caller=OFFICE,
            dialed=number,
            answered_by=ext,
            rang=(ext,),
        )

    await at(0, call("1", T0, caller=A, status=MISSED, rang=("101",)))  # Alice's deal
    await at(10, call("2", T0 + 10 * M, caller=A, answered_by="102"))  # Bob reaches A: 10 min 5 s
    await at(20, call("3", T0 + 20 * M, caller=B, status=MISSED, rang=("102",)))  # Bob's deal
    await at(30, out("4", 30, B, ext="102", connected=False))  # an attempt
    await at(50, out("5", 50, B, ext="102", connected=True))  # B reached: 30 min 5 s
    await at(60, call("6", T0 + 60 * M, caller=C, status=MISSED, rang=("101",)))  # never returned
    await at(70, call("7", T0 + 70 * M, caller=D, answered_by="101"))
    await at(80, call("8", T0 + 80 * M, caller=A, status=MISSED, rang=("101",)))  # A again
    await at(85, out("9", 85, A, ext="101", connected=True))  # A reached: 5 min 5 s


PERIOD = Period(T0 - H, T0 + 2 * H)
ALICE = CallFigures(
    answered=1,
    missed=3,
    returned=2,
    median_minutes_to_call_back=7.6,  # (305 s + 605 s) / 2 = 7.58 min
    outbound=1,
    outbound_connected=1,
    without_outcome=2,
)
BOB = CallFigures(
    answered=1,
    missed=1,
    returned=1,
    median_minutes_to_call_back=30.1,  # 1805 s
    outbound=2,
    outbound_connected=1,
    without_outcome=2,
)
TEAM = CallFigures(
    answered=2,
    missed=4,
    returned=3,
    median_minutes_to_call_back=10.1,  # 305, 605, 1805 s: 605 s
    outbound=3,
    outbound_connected=2,
    without_outcome=4,
)


async def test_the_calls_report_counts_each_sellers_calls_as_worked_out_by_hand(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await _day_of_calls(crm, clock)
    report = await crm.reports.calls(actor=team.boss, period=PERIOD)
    assert report.team == TEAM
    assert {r.seller.name: r.figures for r in report.sellers} == {
        "Alice": ALICE,
        "Bob": BOB,
        "Carol": CallFigures(),
    }
    assert (TEAM.never_returned, ALICE.never_returned, BOB.never_returned) == (1, 1, 0)


async def test_a_seller_sees_their_own_calls_only(crm: Crm, team: Team, clock: FixedClock) -> None:
    await _day_of_calls(crm, clock)
    report = await crm.reports.calls(actor=team.alice, period=PERIOD)
    assert (report.team, [(r.seller.name, r.figures) for r in report.sellers]) == (ALICE, [("Alice", ALICE)])
    chosen = await crm.reports.calls(actor=team.boss, period=PERIOD, seller_telegram_id=team.bob.telegram_id)
    assert [(r.seller.name, r.figures) for r in chosen.sellers] == [("Bob", BOB)]


async def test_the_digest_lists_only_the_missed_calls_nobody_returned(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await _day_of_calls(crm, clock)
    clock.current = T0 + 2 * H
    digest = await crm.reports.digest(actor=team.boss, since=PERIOD.start, until=PERIOD.end)
    assert [(t.phone, t.assignee_name) for t in digest.missed_calls] == [(C, "Alice")]
    assert digest.calls is not None and digest.calls.team == TEAM
