"""The start of the day through the chat, on the bot's controlled clock: one morning message with
everything due (a deal gone quiet, a call-back from the night, the task set for nine) and buttons to act
on each, in place; what falls due later in the day still comes on its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from crm_core.domain.tasks import TaskKind
from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import (
    ALI,
    EmulatedChat,
    Msg,
    RunningKanbot,
    crm_at,
    kanbot_ticked_by_hand,
)

HOUR = timedelta(hours=1)


def next_monday_nine() -> datetime:
    """09:00 UTC (Ali's time) on the next Monday: the start of a working day."""
    now = datetime.now(UTC)
    return (now + timedelta(days=(7 - now.weekday()) or 7)).replace(hour=9, minute=0, second=0, microsecond=0)


MONDAY = next_monday_nine()


@pytest.fixture
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, runtime: str
) -> AsyncIterator[RunningKanbot]:
    async with kanbot_ticked_by_hand(database_url, emulator.url, runtime, at=MONDAY) as running:
        yield running


async def sunday_evening(crm: Crm) -> None:
    """A deal left in Unsorted (stale at 20:00), a call-back planned for 23:00 (it waits for working
    hours), a task set for Monday 09:00 and one for 14:00."""
    ali = await crm.users.identify(ALI)
    sunday = crm_at(crm, MONDAY - 15 * HOUR)
    await sunday.deals.create(actor=ali, title="Quiet lead")
    order = await sunday.deals.create(actor=ali, title="School boilers", stage="Opportunity")
    for due_at, text, kind in (
        (MONDAY - 10 * HOUR, "Call back", TaskKind.CALL_BACK),
        (MONDAY, "Send the offer", TaskKind.CUSTOM),
        (MONDAY + 5 * HOUR, "Confirm the delivery", TaskKind.CUSTOM),
    ):
        await sunday.tasks.add(deal_id=order.id, due_at=due_at, text=text, actor=ali, kind=kind)


async def tick(crm: Crm, kanbot: RunningKanbot) -> None:
    """The scheduler's tick at the bot's now; the bot is woken to deliver what it queued."""
    now = kanbot.now()
    await crm_at(crm, now).followups.tick(now)
    assert kanbot.kanbot is not None
    kanbot.kanbot.delivery.wake.set()


async def messages_with(chat: EmulatedChat, text: str, count: int = 1) -> list[Msg]:
    async def found() -> list[Msg]:
        return [m for m in await chat.bot_messages(ALI) if text in m.text]

    async def enough() -> bool:
        return len(await found()) >= count

    await chat.wait_until(enough, timeout_s=20, what=f"{text!r} in Ali's chat")
    return await found()


async def outbox_sent(crm: Crm, kanbot: RunningKanbot, chat: EmulatedChat) -> None:
    async def empty() -> bool:
        async with crm.db.uow(write=False) as uow:
            stats = await uow.outbox.stats(now=kanbot.now())
        return bool(stats["pending"] == 0)

    await chat.wait_until(empty, timeout_s=30, what="the outbox to empty")
    await chat.wait()


async def test_the_day_starts_with_one_message_holding_everything_due_with_buttons_to_act_on_it(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await sunday_evening(crm)
    await tick(crm, kanbot)
    [plan] = await messages_with(chat, "Good morning, Ali")
    await outbox_sent(crm, kanbot, chat)
    assert len(await chat.bot_messages(ALI)) == 1  # not the plan and a reminder and two "due now"
    text = plan.text
    assert "2 tasks due · 1 more later today · 1 deal waiting" in text
    for words in ("Call back", "Send the offer", "Confirm the delivery", "Quiet lead"):
        assert words in text
    assert all(len(row) <= 3 for row in plan.buttons)
    assert "Quiet lead" in " ".join(plan.button_texts) and "⏳" in " ".join(plan.button_texts)

    # A task done from the plan: the plan is redrawn in its own message, one task fewer due.
    await chat.click(ALI, "Done", message_id=plan.message_id)
    plan = await chat.message(ALI, plan.message_id)
    assert "1 task due" in plan.text and "Call back" not in plan.text
    assert len(await chat.bot_messages(ALI)) == 1

    # The waiting deal's card opens in place, and leads back to the plan.
    await chat.click(ALI, "Quiet lead", message_id=plan.message_id)
    card = await chat.message(ALI, plan.message_id)
    assert "Quiet lead" in card.text and "Good morning" not in card.text
    await chat.click(ALI, "Back to the plan", message_id=plan.message_id)
    assert "Good morning, Ali" in (await chat.message(ALI, plan.message_id)).text

    # What falls due later in the day comes on its own, when due.
    kanbot.let_time_pass(5 * HOUR)
    await tick(crm, kanbot)
    [later] = await messages_with(chat, "Due now: Confirm the delivery")
    assert later.message_id != plan.message_id
    assert len(await messages_with(chat, "Good morning, Ali")) == 1


async def test_more_due_than_a_page_holds_is_paged_in_the_plans_own_message(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    ali = await crm.users.identify(ALI)
    sunday = crm_at(crm, MONDAY - 15 * HOUR)
    for n in range(1, 6):
        await sunday.deals.create(actor=ali, title=f"Lead number {n}")
    await tick(crm, kanbot)
    [plan] = await messages_with(chat, "Good morning, Ali")

    def leads(msg: Msg) -> set[str]:
        return {f"Lead number {n}" for n in range(1, 6) if f"Lead number {n}" in " ".join(msg.button_texts)}

    first = leads(plan)
    assert len(first) == 3 and "More (2) ▶" in plan.button_texts
    await chat.click(ALI, "More (2)", message_id=plan.message_id)
    second = leads(await chat.message(ALI, plan.message_id))
    assert len(second) == 2 and len(first | second) == 5
    await chat.click(ALI, "◀", message_id=plan.message_id)
    assert leads(await chat.message(ALI, plan.message_id)) == first
    assert len(await chat.bot_messages(ALI)) == 1
