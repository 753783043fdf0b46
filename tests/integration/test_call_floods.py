"""Call floods (both backends): one number calling again and again makes one notice with its count; many
new numbers at once are recorded without deals and told to the bosses once; the outbox serves every
recipient in turn, so one seller's backlog holds back nobody else's notice."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from bot.core.context import ChatSettings
from bot.core.notify import Notifier
from bot.core.views import View
from crm_core.adapters.database import Database
from crm_core.adapters.tables import calls, outbox
from crm_core.config import CrmConfig
from crm_core.domain.calls import CallFloodRule, CallStatus
from crm_core.domain.notifications import CallMissed, NoteKind, Notification, decode_payload
from crm_core.domain.users import User
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.integration.support import Team, deal_count
from tests.integration.test_ingest_call import call
from tests.integration.test_outbox_delivery import FakeTelegram, delivery

MISSED = CallStatus.MISSED
CUSTOMER = "+74951234567"


def number(n: int) -> str:
    return f"+7916{n:07d}"


async def pending(crm: Crm) -> list[dict[str, Any]]:
    async with crm.db.uow(write=False) as uow:
        return await uow.outbox.pending(limit=100_000)


async def mark_all_sent(crm: Crm) -> None:
    async with crm.db.engine.begin() as conn:
        await conn.execute(update(outbox).values(status="sent", sent_at=crm.clock.now()))


async def call_rows(crm: Crm) -> dict[str, int]:
    async with crm.db.engine.connect() as conn:
        total = await conn.scalar(select(func.count()).select_from(calls))
        held = await conn.scalar(select(func.count()).select_from(calls).where(calls.c.held.is_(True)))
    return {"calls": int(total or 0), "held": int(held or 0)}


async def text_of(crm: Crm, recipient: User, item: dict[str, Any]) -> str:
    notifier = Notifier(crm, ChatSettings(bot_username="kanbot_test_bot", bot_id=1))
    [message] = await notifier.render(recipient, decode_payload(item["kind"], dict(item["payload"])))
    assert isinstance(message, View)
    return message.html


def flood_config(db: Database, clock: FixedClock, config: CrmConfig, *, limit: int) -> Crm:
    return Crm(db, clock=clock, config=replace(config, call_flood=CallFloodRule(limit, timedelta(minutes=5))))


# -- one number, again and again ---------------------------------------------------------------------


async def test_a_number_calling_100_times_gives_its_seller_one_deal_and_one_notice_with_the_count(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    for n in range(100):
        clock.advance(timedelta(seconds=1))
        await crm.calls.ingest_call(call(f"c{n}", clock.now(), status=MISSED, rang=("101",)))

    assert await deal_count(crm) == 1
    assert await call_rows(crm) == {"calls": 100, "held": 0}
    [notice] = await pending(crm)
    assert (notice["recipient_id"], notice["kind"]) == (team.alice.id, NoteKind.CALL_MISSED)
    assert notice["payload"]["calls"] == 100
    text = await text_of(crm, team.alice, notice)
    assert "100 missed calls from +7 495 123-45-67" in text
    assert len(await crm.tasks.open_tasks(actor=team.alice)) == 1  # one call-back is enough


async def test_a_number_calling_again_after_its_notice_went_out_gets_one_more_a_window_later(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    first_at = clock.now()
    await crm.calls.ingest_call(call("c0", clock.now(), status=MISSED))
    await mark_all_sent(crm)  # Alice was told

    for n in range(1, 4):
        clock.advance(timedelta(minutes=1))
        await crm.calls.ingest_call(call(f"c{n}", clock.now(), status=MISSED))

    [again] = await pending(crm)
    assert again["not_before"] == first_at + timedelta(minutes=10)  # not before the window is over
    assert (again["payload"]["calls"], again["payload"]["again"]) == (3, True)
    assert "called again: 3 more missed calls" in await text_of(crm, team.alice, again)


async def test_a_number_calling_after_a_quiet_window_is_told_at_once_as_a_new_call(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await crm.calls.ingest_call(call("c0", clock.now(), status=MISSED))
    await mark_all_sent(crm)
    clock.advance(timedelta(minutes=11))

    await crm.calls.ingest_call(call("c1", clock.now(), status=MISSED))

    [notice] = await pending(crm)
    assert notice["not_before"] == clock.now()
    assert (notice["payload"]["calls"], notice["payload"]["again"]) == (1, False)
    assert "Missed call from +7 495 123-45-67 — please call back." in await text_of(crm, team.alice, notice)


async def test_each_number_and_each_seller_has_its_own_notice(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    for n in range(3):
        await crm.calls.ingest_call(
            call(f"a{n}", clock.now(), caller=number(1), status=MISSED, rang=("101",))
        )
        await crm.calls.ingest_call(
            call(f"b{n}", clock.now(), caller=number(2), status=MISSED, rang=("102",))
        )

    notices = sorted(
        (n["recipient_id"], n["payload"]["caller"], n["payload"]["calls"]) for n in await pending(crm)
    )
    assert notices == sorted([(team.alice.id, number(1), 3), (team.bob.id, number(2), 3)])


# -- many new numbers at once ------------------------------------------------------------------------


async def test_past_the_flood_limit_new_numbers_are_recorded_without_deals_and_the_bosses_told_once(
    db: Database, team: Team, clock: FixedClock, crm_config: CrmConfig
) -> None:
    crm = flood_config(db, clock, crm_config, limit=5)
    for n in range(40):
        clock.advance(timedelta(seconds=2))
        await crm.calls.ingest_call(
            call(f"f{n}", clock.now(), caller=number(n), status=MISSED, rang=("101",))
        )

    assert await deal_count(crm) == 5
    assert await call_rows(crm) == {"calls": 40, "held": 35}  # every call recorded
    notices = await pending(crm)
    assert [n["kind"] for n in notices if n["recipient_id"] == team.alice.id] == [NoteKind.CALL_MISSED] * 5
    [flood] = [n for n in notices if n["recipient_id"] == team.boss.id]
    assert flood["kind"] == NoteKind.CALL_FLOOD
    assert (flood["payload"]["new_numbers"], flood["payload"]["held"]) == (40, 35)
    text = await text_of(crm, team.boss, flood)
    assert "Call flood: 40 new numbers called in 2 minutes." in text  # 78 s, from the first
    assert "Held back so far: 35 calls." in text
    assert len(await crm.tasks.open_tasks(actor=team.alice)) == 5


async def test_in_a_flood_known_customers_and_answered_calls_are_handled_as_usual(
    db: Database, team: Team, clock: FixedClock, crm_config: CrmConfig
) -> None:
    crm = flood_config(db, clock, crm_config, limit=3)
    known = await crm.deals.create(actor=team.bob, title="Known", phone=CUSTOMER)
    for n in range(10):
        await crm.calls.ingest_call(call(f"f{n}", clock.now(), caller=number(n), status=MISSED))

    joined = await crm.calls.ingest_call(call("k1", clock.now(), caller=CUSTOMER, status=MISSED))
    answered = await crm.calls.ingest_call(call("a1", clock.now(), caller=number(99), answered_by="102"))

    assert joined.deal_id == known.id
    assert answered.created  # a seller is talking to them
    to_bob = [
        (n["kind"], n["payload"]["caller"]) for n in await pending(crm) if n["recipient_id"] == team.bob.id
    ]
    assert to_bob == [(NoteKind.CALL_MISSED, CUSTOMER), (NoteKind.CALL_ANSWERED, number(99))]


async def test_a_flood_is_told_once_however_long_it_lasts_and_a_later_flood_again(
    db: Database, team: Team, clock: FixedClock, crm_config: CrmConfig
) -> None:
    crm = flood_config(db, clock, crm_config, limit=2)
    for n in range(5):
        await crm.calls.ingest_call(call(f"f{n}", clock.now(), caller=number(n), status=MISSED))
    await mark_all_sent(crm)  # the boss read it
    for n in range(5, 60):
        clock.advance(timedelta(minutes=1))  # an hour of it, never a quiet window
        await crm.calls.ingest_call(call(f"f{n}", clock.now(), caller=number(n), status=MISSED))
    assert [n for n in await pending(crm) if n["recipient_id"] == team.boss.id] == []

    clock.advance(timedelta(minutes=30))  # quiet, then another flood
    for n in range(100, 105):
        await crm.calls.ingest_call(call(f"g{n}", clock.now(), caller=number(n), status=MISSED))
    [second] = [n for n in await pending(crm) if n["recipient_id"] == team.boss.id]
    assert second["kind"] == NoteKind.CALL_FLOOD and second["payload"]["held"] == 3


async def test_a_number_held_back_in_a_flood_gets_a_deal_when_it_calls_after_it(
    db: Database, team: Team, clock: FixedClock, crm_config: CrmConfig
) -> None:
    crm = flood_config(db, clock, crm_config, limit=2)
    for n in range(4):
        await crm.calls.ingest_call(call(f"f{n}", clock.now(), caller=number(n), status=MISSED))
    held = await crm.calls.ingest_call(call("h1", clock.now(), caller=number(3), status=MISSED))
    assert held.deal_id is None

    clock.advance(timedelta(minutes=6))
    later = await crm.calls.ingest_call(call("h2", clock.now(), caller=number(3), status=MISSED))

    assert later.created


async def test_a_flood_limit_of_zero_never_holds_a_call_back(
    db: Database, team: Team, clock: FixedClock, crm_config: CrmConfig
) -> None:
    crm = flood_config(db, clock, crm_config, limit=0)
    for n in range(50):
        await crm.calls.ingest_call(call(f"f{n}", clock.now(), caller=number(n), status=MISSED))
    assert await deal_count(crm) == 50


# -- the outbox serves everyone in turn --------------------------------------------------------------


async def queue_missed(crm: Crm, recipient: User, count: int, *, first: int) -> None:
    async with crm.db.uow() as uow:
        for n in range(first, first + count):
            payload = CallMissed(call_id=n, caller=number(n), deal_id=None, task_id=None)
            await uow.outbox.put(Notification(recipient.id, payload), at=crm.clock.now())
        await uow.commit()


async def test_a_sellers_backlog_does_not_hold_back_another_sellers_notice_in_the_claim(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await queue_missed(crm, team.alice, 300, first=0)
    clock.advance(timedelta(seconds=30))  # Bob's comes last
    await queue_missed(crm, team.bob, 1, first=1000)
    clock.advance(timedelta(seconds=1))

    async with crm.db.uow() as uow:
        batch = await uow.outbox.claim(now=clock.now(), limit=50, lease=timedelta(seconds=60))
        await uow.commit()

    order = [item.recipient_id for item in batch]
    assert order[:2] == [team.alice.id, team.bob.id]  # each recipient's oldest first, in turn
    assert order.count(team.alice.id) == 2  # and no more of one recipient's than a chat takes at once
    assert [item.payload.call_id for item in batch if item.recipient_id == team.alice.id] == [0, 1]


async def test_a_flooded_seller_does_not_delay_another_sellers_pop_up_through_telegram(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await queue_missed(crm, team.alice, 200, first=0)
    await queue_missed(crm, team.bob, 1, first=1000)
    telegram = FakeTelegram()
    sending = delivery(crm, telegram, batch=20)

    await sending.flush_once()

    chats = [chat for chat, _ in telegram.sent]
    assert team.bob.telegram_id in chats  # in the first batch, not after Alice's 200
