"""What a telephone call does to the CRM (``ingest_call``): deals, call-back tasks, pop-ups, history."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from crm_core.adapters.database import Database
from crm_core.config import CreateDealsFrom, CrmConfig
from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from crm_core.domain.deals import Source
from crm_core.domain.history import EventKind
from crm_core.domain.notifications import NoteKind
from crm_core.domain.tasks import TaskKind
from crm_core.domain.users import Role
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.integration.support import Team, deal_count, outbox, stored

CUSTOMER = "+74951234567"
OFFICE = "+74950000000"
ANSWERED, MISSED = CallStatus.ANSWERED, CallStatus.MISSED
INBOUND, OUTBOUND, INTERNAL = CallDirection.INBOUND, CallDirection.OUTBOUND, CallDirection.INTERNAL


def call(
    call_id: str,
    at: datetime,
    *,
    caller: str | None = CUSTOMER,
    status: CallStatus = ANSWERED,
    direction: CallDirection = INBOUND,
    answered_by: str | None = "101",
    rang: tuple[str, ...] = ("101",),
    dialed: str | None = OFFICE,
    final: bool = True,
) -> CallEvent:
    """A call as a PBX parser hands it over: E.164 numbers, extensions that rang and answered."""
    answered = status is ANSWERED
    return CallEvent(
        call_id=call_id,
        provider="asterisk",
        direction=direction,
        status=status,
        caller=caller,
        dialed=dialed,
        started_at=at,
        rang=rang,
        answered_by=answered_by if answered else None,
        answered_at=at + timedelta(seconds=5) if answered else None,
        ended_at=at + timedelta(seconds=65) if final else None,
        duration_s=60 if final and answered else None,
    )


def with_config(db: Database, clock: FixedClock, config: CrmConfig, **changes: object) -> Crm:
    return Crm(db, clock=clock, config=replace(config, **changes))  # type: ignore[arg-type]


async def notes(crm: Crm) -> list[tuple[int, str]]:
    return [(n["recipient_id"], n["kind"]) for n in await outbox(crm)]


async def test_an_answered_call_from_an_unknown_number_makes_a_deal_for_the_seller_who_answered(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    outcome = await crm.calls.ingest_call(call("c1", clock.now(), answered_by="101"))
    assert (outcome.created, outcome.duplicate) == (True, False)
    assert outcome.deal_id is not None
    deal = await crm.deals.get(deal_id=outcome.deal_id, actor=team.alice)
    assert (deal.stage.name, deal.source, deal.title) == ("Unsorted", Source.CALL, "+7 495 123-45-67")
    assert deal.owner is not None and deal.owner.name == "Alice"
    assert deal.contact is not None and deal.contact.phone == CUSTOMER
    history = await crm.deals.history(deal_id=deal.id, actor=team.alice)
    assert [(e.kind, e.actor_system) for e in history] == [
        (EventKind.CREATED, "call asterisk:c1"),
        (EventKind.CALL, "call asterisk:c1"),
    ]
    assert history[1].data | {"call_id": 0} == {
        "call_id": 0,
        "direction": "inbound",
        "status": "answered",
        "duration_s": 60,
        "answered_by": "101",
    }
    assert await notes(crm) == [(team.alice.id, NoteKind.CALL_ANSWERED)]
    assert await crm.tasks.open_tasks(actor=team.alice) == []


async def test_a_repeated_call_event_changes_nothing_more(crm: Crm, team: Team, clock: FixedClock) -> None:
    first = await crm.calls.ingest_call(call("c1", clock.now()))
    assert first.deal_id is not None
    before = await stored(crm, first.deal_id)
    clock.advance(timedelta(minutes=5))
    again = await crm.calls.ingest_call(call("c1", clock.now() - timedelta(minutes=5)))
    assert (again.deal_id, again.created, again.duplicate) == (first.deal_id, False, True)
    assert await stored(crm, first.deal_id) == before
    assert await deal_count(crm) == 1


async def test_a_call_seen_in_progress_is_completed_by_its_final_event_without_a_second_deal(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    started = clock.now()
    ringing = await crm.calls.ingest_call(call("c1", started, final=False))
    assert (ringing.created, ringing.duplicate) == (True, False)
    assert ringing.deal_id is not None
    clock.advance(timedelta(minutes=1))
    final = await crm.calls.ingest_call(call("c1", started))
    assert (final.deal_id, final.created, final.duplicate) == (ringing.deal_id, False, False)
    [record] = await crm.calls.of_deal(deal_id=ringing.deal_id, actor=team.alice)
    assert (record.is_final, record.duration_s) == (True, 60)
    late = await crm.calls.ingest_call(call("c1", started, final=False))  # a straggler
    assert late.duplicate
    history = await crm.deals.history(deal_id=ringing.deal_id, actor=team.alice)
    assert [e.kind for e in history] == [EventKind.CREATED, EventKind.CALL]
    assert await deal_count(crm) == 1
    # The pop-up at the answer; at the end, the question how it went (once: the straggler adds none).
    assert await notes(crm) == [(team.alice.id, NoteKind.CALL_ANSWERED), (team.alice.id, NoteKind.CALL_ENDED)]


@pytest.mark.parametrize("typed", ["8 495 123-45-67", "+7 (495) 123 45 67", "74951234567"])
async def test_a_known_callers_open_deal_gets_the_call_whatever_way_the_number_was_typed(
    crm: Crm, team: Team, clock: FixedClock, typed: str
) -> None:
    deal = await crm.deals.create(actor=team.bob, title="Known", phone=typed, stage="Opportunity")
    clock.advance(timedelta(hours=1))
    outcome = await crm.calls.ingest_call(call("c1", clock.now(), answered_by="101"))
    assert (outcome.deal_id, outcome.created) == (deal.id, False)
    again = await crm.deals.get(deal_id=deal.id, actor=team.bob)
    assert again.last_activity_at == clock.now()
    assert again.owner is not None and again.owner.name == "Bob"  # answering does not take it away
    assert [e.kind for e in await crm.deals.history(deal_id=deal.id, actor=team.bob)][-1] is EventKind.CALL
    assert await deal_count(crm) == 1
    assert await notes(crm) == [
        (team.alice.id, NoteKind.CALL_ANSWERED),  # the pop-up goes to who answered
        (team.bob.id, NoteKind.COLLEAGUE_CALLS),  # and the deal's owner hears of it, in a batch
    ]


async def test_a_caller_with_several_open_deals_calls_into_the_most_recently_active(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    older = await crm.deals.create(actor=team.alice, title="Older", phone=CUSTOMER)
    clock.advance(timedelta(hours=1))
    busy = await crm.deals.create(actor=team.alice, title="Busy", phone=CUSTOMER)
    clock.advance(timedelta(hours=1))
    await crm.deals.add_note(deal_id=older.id, text="Talked", actor=team.alice)  # now the most recent
    closed = await crm.deals.create(actor=team.alice, title="Closed", phone=CUSTOMER)
    await crm.deals.mark_won(deal_id=closed.id, actor=team.alice)
    clock.advance(timedelta(hours=1))
    outcome = await crm.calls.ingest_call(call("c1", clock.now()))
    assert outcome.deal_id == older.id
    assert busy.id != older.id


async def test_a_caller_whose_deals_are_all_closed_gets_a_new_deal(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    closed = await crm.deals.create(actor=team.alice, title="Last year", phone=CUSTOMER, contact_name="Ivan")
    await crm.deals.mark_lost(deal_id=closed.id, reason="Price", actor=team.alice)
    outcome = await crm.calls.ingest_call(call("c1", clock.now(), answered_by="102"))
    assert outcome.created
    assert outcome.deal_id is not None
    deal = await crm.deals.get(deal_id=outcome.deal_id, actor=team.bob)
    assert deal.contact is not None and closed.contact is not None
    assert (deal.contact.id, deal.contact.name) == (closed.contact.id, "Ivan")


@pytest.mark.parametrize("mode", [CreateDealsFrom.MISSED, CreateDealsFrom.NONE])
async def test_without_deals_from_answered_calls_the_answerer_just_gets_a_pop_up(
    db: Database, team: Team, clock: FixedClock, crm_config: CrmConfig, mode: CreateDealsFrom
) -> None:
    crm = with_config(db, clock, crm_config, calls_create_deals=mode)
    outcome = await crm.calls.ingest_call(call("c1", clock.now(), answered_by="102"))
    assert (outcome.deal_id, outcome.created) == (None, False)
    assert await deal_count(crm) == 0
    assert await notes(crm) == [(team.bob.id, NoteKind.CALL_UNKNOWN)]
    assert (await crm.calls.ingest_call(call("c1", clock.now(), answered_by="102"))).duplicate  # recorded


async def test_a_missed_call_from_an_unknown_number_makes_a_deal_and_a_call_back_for_who_rang_first(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    outcome = await crm.calls.ingest_call(call("c1", clock.now(), status=MISSED, rang=("102", "101")))
    assert outcome.created
    assert outcome.deal_id is not None
    deal = await crm.deals.get(deal_id=outcome.deal_id, actor=team.bob)
    assert (deal.source, deal.stage.name) == (Source.MISSED_CALL, "Unsorted")
    assert deal.owner is not None and deal.owner.name == "Bob"
    [task] = await crm.tasks.open_tasks(actor=team.bob)
    assert (task.deal_id, task.kind, task.due_at) == (
        deal.id,
        TaskKind.CALL_BACK,
        clock.now() + timedelta(minutes=15),
    )
    kinds = [e.kind for e in await crm.deals.history(deal_id=deal.id, actor=team.bob)]
    assert kinds == [EventKind.CREATED, EventKind.CALL, EventKind.TASK_CREATED]
    assert await notes(crm) == [(team.bob.id, NoteKind.CALL_MISSED)]


async def test_a_missed_call_on_a_known_deal_gives_the_call_back_to_its_owner(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(actor=team.carol, title="Carol's", phone=CUSTOMER)
    outcome = await crm.calls.ingest_call(call("c1", clock.now(), status=MISSED, rang=("101", "102")))
    assert (outcome.deal_id, outcome.created) == (deal.id, False)
    [task] = await crm.tasks.open_tasks(actor=team.carol)
    assert (task.kind, task.deal_id) == (TaskKind.CALL_BACK, deal.id)
    assert await crm.tasks.open_tasks(actor=team.alice) == []
    assert await notes(crm) == [(team.carol.id, NoteKind.CALL_MISSED)]
    clock.advance(timedelta(minutes=3))
    await crm.calls.ingest_call(call("c2", clock.now(), status=MISSED))  # they try again
    assert len(await crm.tasks.open_tasks(actor=team.carol)) == 1  # one call-back is enough
    kinds = [e.kind for e in await crm.deals.history(deal_id=deal.id, actor=team.carol)]
    assert kinds.count(EventKind.CALL) == 2


async def test_a_call_back_is_due_after_the_configured_delay(
    db: Database, team: Team, clock: FixedClock, crm_config: CrmConfig
) -> None:
    crm = with_config(db, clock, crm_config, call_back_after=timedelta(minutes=40))
    await crm.calls.ingest_call(call("c1", clock.now(), status=MISSED))
    [task] = await crm.tasks.open_tasks(actor=team.alice)
    assert task.due_at == clock.now() + timedelta(minutes=40)


async def test_missed_calls_nobody_in_particular_rang_for_go_round_the_active_sellers(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    owners = []
    for n in range(4):
        clock.advance(timedelta(minutes=1))
        event = call(f"c{n}", clock.now(), caller=f"+7495123456{n}", status=MISSED, rang=("999",))
        outcome = await crm.calls.ingest_call(event)
        assert outcome.deal_id is not None
        deal = await crm.deals.get(deal_id=outcome.deal_id, actor=team.boss)
        owners.append(deal.owner.name if deal.owner else None)
    assert owners == ["Alice", "Bob", "Carol", "Alice"]


async def test_a_missed_call_with_no_seller_to_call_back_leaves_the_task_unassigned_and_tells_the_bosses(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    second_boss = await crm.users.add(
        telegram_id=101, name="Second boss", role=Role.BOSS, extensions=("200",)
    )
    for seller in (team.alice, team.bob, team.carol):
        await crm.users.deactivate(telegram_id=seller.telegram_id)
    outcome = await crm.calls.ingest_call(call("c1", clock.now(), status=MISSED, rang=("200",)))
    assert outcome.deal_id is not None
    deal = await crm.deals.get(deal_id=outcome.deal_id, actor=team.boss)
    assert deal.owner is None
    [task] = await crm.tasks.open_tasks(actor=team.boss, everyone=True)
    assert (task.assignee_id, task.kind) == (None, TaskKind.CALL_BACK)
    assert sorted(await notes(crm)) == sorted(
        [(team.boss.id, NoteKind.MISSED_UNOWNED), (second_boss.id, NoteKind.MISSED_UNOWNED)]
    )


async def test_an_answered_call_gives_an_unassigned_deal_to_whoever_answered(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    missed = await crm.calls.ingest_call(call("c1", clock.now(), status=MISSED, rang=("999",)))
    assert missed.deal_id is not None
    await crm.deals.reassign(deal_id=missed.deal_id, owner_telegram_id=None, actor=team.boss)
    clock.advance(timedelta(minutes=10))
    answered = await crm.calls.ingest_call(call("c2", clock.now(), answered_by="102"))
    assert answered.deal_id == missed.deal_id
    deal = await crm.deals.get(deal_id=missed.deal_id, actor=team.bob)
    assert deal.owner is not None and deal.owner.name == "Bob"
    reassigned = [
        e for e in await crm.deals.history(deal_id=deal.id, actor=team.bob) if e.kind is EventKind.REASSIGNED
    ]
    assert (reassigned[-1].actor_system, reassigned[-1].data["to_owner_name"]) == ("call asterisk:c2", "Bob")


@pytest.mark.parametrize(
    ("changes", "event"),
    [
        ({}, {"direction": INTERNAL, "caller": None, "dialed": None}),
        ({}, {"direction": INTERNAL}),
        ({"own_numbers": frozenset({CUSTOMER})}, {}),
        ({"blocked_numbers": frozenset({CUSTOMER})}, {}),
        ({"blocked_numbers": frozenset({CUSTOMER})}, {"status": MISSED}),
        ({}, {"caller": None}),  # a hidden number
        ({}, {"caller": None, "status": MISSED}),
    ],
    ids=[
        "internal",
        "internal with numbers",
        "own number",
        "blocked",
        "blocked missed",
        "anonymous",
        "anonymous missed",
    ],
)
async def test_calls_that_are_not_from_a_customer_make_and_touch_no_deal(
    db: Database,
    team: Team,
    clock: FixedClock,
    crm_config: CrmConfig,
    changes: dict[str, object],
    event: dict[str, object],
) -> None:
    crm = with_config(db, clock, crm_config, **changes)
    existing = await crm.deals.create(actor=team.alice, title="Customer", phone=CUSTOMER)
    before = await stored(crm, existing.id)
    outcome = await crm.calls.ingest_call(replace(call("c1", clock.now()), **event))  # type: ignore[arg-type]
    assert (outcome.deal_id, outcome.created, outcome.duplicate) == (None, False, False)
    assert await deal_count(crm) == 1
    assert await stored(crm, existing.id) == before
    assert await crm.tasks.open_tasks(actor=team.boss, everyone=True) == []
    assert (await crm.calls.ingest_call(replace(call("c1", clock.now()), **event))).duplicate  # type: ignore[arg-type]


async def test_an_outbound_call_is_attached_to_the_callees_open_deal(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Customer", phone="8 495 123-45-67")
    clock.advance(timedelta(hours=1))
    outcome = await crm.calls.ingest_call(
        call("c1", clock.now(), direction=OUTBOUND, caller=OFFICE, dialed=CUSTOMER, answered_by="101")
    )
    assert (outcome.deal_id, outcome.created) == (deal.id, False)
    history = await crm.deals.history(deal_id=deal.id, actor=team.alice)
    assert (history[-1].kind, history[-1].data["direction"]) == (EventKind.CALL, "outbound")
    assert (await crm.deals.get(deal_id=deal.id, actor=team.alice)).last_activity_at == clock.now()
    assert await crm.tasks.open_tasks(actor=team.alice) == []
    assert await notes(crm) == [(team.alice.id, NoteKind.CALL_ENDED)]  # how did the call go?
    unanswered = await crm.calls.ingest_call(
        call("c2", clock.now(), direction=OUTBOUND, caller=OFFICE, dialed=CUSTOMER, status=MISSED)
    )
    assert unanswered.deal_id == deal.id
    assert await crm.tasks.open_tasks(actor=team.alice) == []  # nobody calls back our own missed call


async def test_an_outbound_call_to_an_unknown_number_makes_no_deal(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    outcome = await crm.calls.ingest_call(
        call("c1", clock.now(), direction=OUTBOUND, caller=OFFICE, dialed=CUSTOMER)
    )
    assert (outcome.deal_id, outcome.created) == (None, False)
    assert await deal_count(crm) == 0


async def test_a_deals_card_counts_every_one_of_its_calls_beyond_the_twenty_it_lists(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    first = await crm.calls.ingest_call(call("c0", clock.now()))
    assert first.deal_id is not None
    for n in range(1, 25):
        clock.advance(timedelta(minutes=10))
        assert (await crm.calls.ingest_call(call(f"c{n}", clock.now()))).deal_id == first.deal_id
    details = await crm.deals.details(deal_id=first.deal_id, actor=team.alice)
    assert details.call_count == 25
    assert len(await crm.calls.of_deal(deal_id=first.deal_id, actor=team.alice)) == 20  # one page
