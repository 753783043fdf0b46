"""A notification shown in an earlier one's message (a call's end in its pop-up): edited in place once
the earlier one went out, sent anew when it never will or its message cannot be edited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.core.perform import Failure, TransportError
from crm_core.adapters.tables import outbox
from crm_core.domain.notifications import CallUnknown, Notification
from crm_core.domain.users import User
from crm_core.services import Crm
from tests.integration.support import Team
from tests.integration.test_outbox_delivery import FakeTelegram, caller, delivery, rows


async def put(crm: Crm, recipient: User, call_id: int, *, edits: str | None = None, later_s: int = 0) -> None:
    """Queue an "unknown caller" notice for ``call_id`` (dedup key ``pop:<id>``), due ``later_s`` on."""
    note = Notification(
        recipient.id,
        CallUnknown(call_id=call_id, caller=caller(call_id), deal_id=None),
        dedup_key=f"pop:{call_id}",
        not_before=crm.clock.now() + timedelta(seconds=later_s),
        edits=edits,
    )
    async with crm.db.uow() as uow:
        await uow.outbox.put(note, at=crm.clock.now())
        await uow.commit()


async def by_key(crm: Crm) -> dict[str, dict[str, object]]:
    return {str(r["dedup_key"]): r for r in (await rows(crm)).values()}


async def test_a_sent_notification_keeps_its_message_and_a_later_one_is_shown_in_it(
    crm: Crm, team: Team
) -> None:
    telegram = FakeTelegram()
    sending = delivery(crm, telegram)
    await put(crm, team.alice, 1)
    await sending.flush()
    first = (await by_key(crm))["pop:1"]
    assert (first["chat_id"], first["message_id"]) == (team.alice.telegram_id, 1)

    await put(crm, team.alice, 2, edits="pop:1")
    await sending.flush()

    assert len(telegram.sent) == 1  # no second message
    ((chat_id, message_id, text),) = telegram.edited
    assert (chat_id, message_id) == (team.alice.telegram_id, 1) and "+7 495 000-00-02" in text
    second = (await by_key(crm))["pop:2"]
    assert (second["status"], second["message_id"]) == ("sent", 1)


async def test_one_that_is_shown_in_a_notification_still_waiting_waits_for_it(crm: Crm, team: Team) -> None:
    telegram = FakeTelegram()
    sending = delivery(crm, telegram)
    await put(crm, team.alice, 1, later_s=30)  # the pop-up waits (a 429, a backoff)
    await put(crm, team.alice, 2, edits="pop:1")

    await sending.flush()

    assert telegram.sent == [] and telegram.edited == []
    waiting = await by_key(crm)
    assert waiting["pop:2"]["status"] == "pending" and waiting["pop:2"]["attempts"] == 0
    assert waiting["pop:2"]["not_before"] > waiting["pop:1"]["not_before"]  # type: ignore[operator]

    async with crm.db.engine.begin() as conn:  # both due now: they go out in one pass, in order
        await conn.execute(update(outbox).values(not_before=crm.clock.now()))
    await sending.flush()

    assert telegram.texts(team.alice.telegram_id) == [telegram.sent[0][1]]
    assert [(chat, message) for chat, message, _ in telegram.edited] == [(team.alice.telegram_id, 1)]
    assert {r["status"] for r in (await by_key(crm)).values()} == {"sent"}


async def test_one_shown_in_a_notification_that_was_given_up_is_sent_anew(crm: Crm, team: Team) -> None:
    telegram = FakeTelegram()
    telegram.faults[team.alice.telegram_id] = [TransportError(Failure.REFUSED, "Bad Request: chat not found")]
    sending = delivery(crm, telegram)
    await put(crm, team.alice, 1)
    await sending.flush()
    assert (await by_key(crm))["pop:1"]["status"] == "failed"

    await put(crm, team.alice, 2, edits="pop:1")
    await sending.flush()

    assert len(telegram.sent) == 1 and telegram.edited == []
    assert (await by_key(crm))["pop:2"]["message_id"] == 1


async def test_one_whose_message_cannot_be_edited_any_more_is_sent_anew_and_keeps_the_new_message(
    crm: Crm, team: Team
) -> None:
    telegram = FakeTelegram()
    sending = delivery(crm, telegram)
    await put(crm, team.alice, 1)
    await sending.flush()
    telegram.edit_faults = [TransportError(Failure.REFUSED, "Bad Request: message to edit not found")]

    await put(crm, team.alice, 2, edits="pop:1")
    await sending.flush()

    assert len(telegram.sent) == 2 and "+7 495 000-00-02" in telegram.sent[1][1]
    assert (await by_key(crm))["pop:2"]["message_id"] == 2


async def test_an_edit_that_gets_a_429_is_tried_again_later_as_an_edit_even_after_a_restart(
    crm: Crm, team: Team
) -> None:
    telegram = FakeTelegram()
    sending = delivery(crm, telegram)
    await put(crm, team.alice, 1)
    await sending.flush()
    telegram.edit_faults = [TransportError(Failure.RETRY_AFTER, "Too Many Requests", retry_after=1)]

    await put(crm, team.alice, 2, edits="pop:1")
    await sending.flush_once()
    assert sending.stats.rate_limited == 1 and telegram.edited == []
    async with crm.db.engine.begin() as conn:
        await conn.execute(update(outbox).values(not_before=crm.clock.now()))
    await delivery(crm, telegram).flush()  # another process, or this one restarted

    assert len(telegram.sent) == 1 and [m for _, m, _ in telegram.edited] == [1]
    assert (await by_key(crm))["pop:2"]["status"] == "sent"
