"""A deal's owner hears, once and in one notice, that colleagues spoke with their customers: answered
the customer's call, or returned a missed one (doing the owner's call-back)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bot.core.context import ChatSettings
from bot.core.notify import Notifier
from bot.core.views import View
from crm_core.adapters.tables import outbox
from crm_core.domain.notifications import NoteKind, decode_payload
from crm_core.domain.users import Role
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.e2e.harness import visible
from tests.integration.support import Team
from tests.integration.test_ingest_call import CUSTOMER, MISSED, OFFICE, OUTBOUND, call

OTHER = "+74951112233"
M = timedelta(minutes=1)


async def notices(crm: Crm) -> list[dict[str, Any]]:
    """The colleague-calls notices queued, oldest first."""
    async with crm.db.engine.connect() as conn:
        rows = await conn.execute(outbox.select().where(outbox.c.kind == NoteKind.COLLEAGUE_CALLS))
        return [dict(r._mapping) for r in rows]


async def alices_customers(crm: Crm, team: Team) -> tuple[int, int]:
    acme = await crm.deals.create(actor=team.alice, title="ACME", contact_name="Ivan", phone=CUSTOMER)
    globex = await crm.deals.create(actor=team.alice, title="Globex", contact_name="Hank", phone=OTHER)
    return acme.id, globex.id


async def test_a_colleague_answering_and_returning_an_owners_customers_makes_one_notice_a_window_later(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    acme, globex = await alices_customers(crm, team)
    first_at = clock.now()
    await crm.calls.ingest_call(call("in-1", clock.now(), answered_by="102", rang=("101", "102")))
    clock.advance(2 * M)
    await crm.calls.ingest_call(call("missed", clock.now(), caller=OTHER, status=MISSED))
    clock.advance(3 * M)
    returned = call("out-1", clock.now(), direction=OUTBOUND, caller=OFFICE, dialed=OTHER, answered_by="102")
    await crm.calls.ingest_call(returned)
    await crm.calls.ingest_call(returned)  # the same call reported again is not counted again

    (notice,) = await notices(crm)
    assert notice["recipient_id"] == team.alice.id
    assert notice["not_before"] == first_at + crm.config.colleague_calls_window
    assert notice["payload"]["spoke"] == [
        {"by_id": team.bob.id, "by_name": "Bob", "deal_id": acme, "title": "ACME", "returned": False},
        {"by_id": team.bob.id, "by_name": "Bob", "deal_id": globex, "title": "Globex", "returned": True},
    ]
    assert await crm.tasks.open_tasks(actor=team.alice) == []  # Bob's call did the call-back


async def test_the_seller_who_takes_their_own_customers_calls_is_told_nothing(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await alices_customers(crm, team)
    await crm.calls.ingest_call(call("in-1", clock.now()))
    await crm.calls.ingest_call(call("missed", clock.now(), caller=OTHER, status=MISSED))
    clock.advance(5 * M)
    mine = call("out-1", clock.now(), direction=OUTBOUND, caller=OFFICE, dialed=OTHER, answered_by="101")
    await crm.calls.ingest_call(mine)
    assert await notices(crm) == []


async def test_a_customer_spoken_with_twice_is_one_line_and_a_call_after_the_notice_went_out_starts_another(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    acme, _ = await alices_customers(crm, team)
    await crm.calls.ingest_call(call("in-1", clock.now(), answered_by="102"))
    clock.advance(M)
    await crm.calls.ingest_call(call("in-2", clock.now(), answered_by="102"))
    (notice,) = await notices(crm)
    assert [line["deal_id"] for line in notice["payload"]["spoke"]] == [acme]

    async with crm.db.engine.begin() as conn:  # it went out
        await conn.execute(update(outbox).values(status="sent", sent_at=clock.now()))
    clock.advance(20 * M)
    await crm.calls.ingest_call(call("in-3", clock.now(), answered_by="102"))
    _, second = await notices(crm)
    assert second["status"] == "pending" and second["not_before"] == clock.now() + 15 * M


async def test_a_new_caller_answered_by_a_seller_is_theirs_and_nobody_is_told(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await crm.calls.ingest_call(call("in-1", clock.now(), answered_by="102"))
    assert await notices(crm) == []


def spoke(n: int) -> dict[str, Any]:
    lines = [
        {"by_id": 9, "by_name": "Bob", "deal_id": 100 + i, "title": f"Deal {i}", "returned": i == 0}
        for i in range(n)
    ]
    return {"spoke": lines}


@pytest.mark.parametrize(
    ("locale", "n", "words"),
    [
        ("en", 1, "Bob spoke with 1 of your customers:"),
        ("ru", 1, "Bob поговорил(а) с 1 вашим клиентом:"),
        ("ru", 5, "Bob поговорил(а) с 5 вашими клиентами:"),
        ("ar", 1, "تحدّث Bob مع عميل واحد من عملائك:"),
        ("ar", 2, "تحدّث Bob مع عميلَين من عملائك:"),
        ("ar", 11, "تحدّث Bob مع 11 عميلًا من عملائك:"),
    ],
)
async def test_the_notice_is_worded_in_the_owners_language_with_its_plural_and_a_button_per_deal(
    crm: Crm, team: Team, locale: str, n: int, words: str
) -> None:
    owner = await crm.users.add(telegram_id=300, name="Owner", role=Role.SELLER, locale=locale)
    notifier = Notifier(crm, ChatSettings(bot_username="kanbot_test_bot", bot_id=1))
    (view,) = await notifier.render(owner, decode_payload(NoteKind.COLLEAGUE_CALLS, spoke(n)))
    assert isinstance(view, View)
    text = visible(view.html)
    assert words in text.replace("١١", "11"), text
    assert text.count("•") == n
    assert len(view.buttons) == min(n, 6) and all(len(row) == 1 for row in view.buttons)
