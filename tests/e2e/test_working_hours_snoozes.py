"""Snoozes keep working hours as reminders do, on the bot's controlled clock at 23:26 on a Friday (Ali's
time): a task's "+1 h" or "tomorrow morning" and a deal's "1 day" would fall on Saturday, so each is
offered for Monday 09:00 instead, or kept at the exact time if the seller insists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.core import actions as A
from bot.core.codec import encode
from crm_core.domain.deals import Deal
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
from tests.e2e.test_followups_e2e import a_message, tick


def a_friday_night() -> datetime:
    """23:26 UTC (Ali's time) on the next Friday."""
    now = datetime.now(UTC)
    return (now + timedelta(days=(4 - now.weekday()) % 7 or 7)).replace(
        hour=23, minute=26, second=0, microsecond=0
    )


FRIDAY_NIGHT = a_friday_night()
MONDAY_MORNING = (FRIDAY_NIGHT + timedelta(days=3)).replace(hour=9, minute=0)


@pytest.fixture
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, runtime: str
) -> AsyncIterator[RunningKanbot]:
    async with kanbot_ticked_by_hand(database_url, emulator.url, runtime, at=FRIDAY_NIGHT) as running:
        yield running


async def a_task(crm: Crm, kanbot: RunningKanbot) -> Deal:
    """Ali's deal with a task due in ten minutes (late on Friday: he planned it himself)."""
    ali = await crm.users.identify(ALI)
    at = crm_at(crm, kanbot.now())
    deal = await at.deals.create(actor=ali, title="Boiler for the school")
    await at.tasks.add(
        deal_id=deal.id, due_at=kanbot.now() + timedelta(minutes=10), text="Send the contract", actor=ali
    )
    return deal


async def due_times(crm: Crm) -> list[datetime]:
    return [t.due_at for t in await crm.tasks.open_tasks(actor=await crm.users.identify(ALI))]


async def task_list(chat: EmulatedChat) -> Msg:
    await chat.send(ALI, "/tasks")
    return await chat.last(ALI)


async def test_a_tasks_hour_later_at_night_is_offered_for_monday_morning(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await a_task(crm, kanbot)
    [before] = await due_times(crm)
    listed = await task_list(chat)
    await chat.click(ALI, "+1 h", message_id=listed.message_id)
    asked = await chat.message(ALI, listed.message_id)
    assert "outside your working hours" in asked.text and "Send the contract" in asked.text
    assert await due_times(crm) == [before]  # nothing moved until the seller chooses
    assert all(len(row) <= 3 for row in asked.buttons)
    await chat.click(ALI, "🌅", message_id=listed.message_id)
    assert await due_times(crm) == [MONDAY_MORNING]
    back = await chat.message(ALI, listed.message_id)
    assert "My tasks" in back.text  # the list again, the task at its new time
    assert MONDAY_MORNING.strftime("%d").lstrip("0") in back.text and "09:00" in back.text


async def test_a_seller_who_insists_keeps_the_tasks_hour_later(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await a_task(crm, kanbot)
    listed = await task_list(chat)
    await chat.click(ALI, "+1 h", message_id=listed.message_id)
    await chat.click(ALI, "Keep", message_id=listed.message_id)
    [due] = await due_times(crm)  # an hour after the press, on a clock that runs on from 23:26
    assert FRIDAY_NIGHT + timedelta(hours=1) <= due < FRIDAY_NIGHT + timedelta(hours=1, minutes=5)


async def test_tomorrow_morning_on_a_friday_is_offered_for_monday(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await a_task(crm, kanbot)
    listed = await task_list(chat)
    await chat.click(ALI, "🌅", message_id=listed.message_id)
    asked = await chat.message(ALI, listed.message_id)
    assert "outside your working hours" in asked.text
    await chat.click(ALI, "Keep", message_id=listed.message_id)
    assert await due_times(crm) == [(FRIDAY_NIGHT + timedelta(days=1)).replace(hour=9, minute=0)]


async def test_a_forged_time_on_a_task_button_changes_nothing(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await a_task(crm, kanbot)
    [before] = await due_times(crm)
    listed = await task_list(chat)
    [task] = await crm.tasks.open_tasks(actor=await crm.users.identify(ALI))
    for option in ("at1", "at99999999999", "atx", "2h"):
        await chat.press_data(ALI, listed.message_id, encode(A.TaskSnooze(task.id, option, "l0")))
    assert await due_times(crm) == [before]


async def snooze_a_day(chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot) -> Msg:
    """Open the deal's card and snooze it for a day (Saturday 09:00); the question asked."""
    await a_task(crm, kanbot)
    await chat.send(ALI, "/find Boiler")
    await chat.click(ALI, "Boiler for the school")
    card = await chat.last(ALI)
    await chat.click(ALI, "⋯ More", message_id=card.message_id)
    await chat.click(ALI, "Snooze", message_id=card.message_id)
    await chat.click(ALI, "1 day", message_id=card.message_id)
    return await chat.message(ALI, card.message_id)


async def snoozed_until(crm: Crm) -> str:
    ali = await crm.users.identify(ALI)
    [deal] = await crm.deals.find(actor=ali, query="Boiler")
    history = await crm.deals.history(deal_id=deal.id, actor=ali)
    return str([e for e in history if e.kind.value == "snoozed"][-1].data["until"])


async def test_a_deal_snoozed_for_a_day_on_a_friday_is_offered_for_monday_morning(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    asked = await snooze_a_day(chat, crm, kanbot)
    assert "outside your working hours" in asked.text and "Snooze until" in asked.text
    await chat.click(ALI, "🌅", message_id=asked.message_id)
    assert "Why?" in (await chat.message(ALI, asked.message_id)).text  # then the reason, as before
    await chat.click(ALI, "No reason", message_id=asked.message_id)
    assert "Snoozed until" in (await chat.message(ALI, asked.message_id)).text
    assert datetime.fromisoformat(await snoozed_until(crm)) == MONDAY_MORNING


async def test_a_seller_who_insists_snoozes_the_deal_until_saturday(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    asked = await snooze_a_day(chat, crm, kanbot)
    await chat.send(ALI, "whatever")  # words instead of a tap: the same question again
    again = await chat.message(ALI, asked.message_id)
    assert "outside your working hours" in again.text
    await chat.click(ALI, "Keep", message_id=asked.message_id)
    await chat.send(ALI, "They are away this week")
    assert "Snoozed until" in (await chat.message(ALI, asked.message_id)).text
    saturday = (FRIDAY_NIGHT + timedelta(days=1)).replace(hour=9, minute=0)
    assert datetime.fromisoformat(await snoozed_until(crm)) == saturday


async def test_the_due_notices_hour_later_at_night_is_offered_for_monday_morning(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await a_task(crm, kanbot)
    kanbot.let_time_pass(timedelta(minutes=11))
    await tick(crm, kanbot, kanbot.now())
    [notice] = await a_message(chat, ALI, "Due now")
    await chat.click(ALI, "💤", message_id=notice.message_id)
    asked = await chat.message(ALI, notice.message_id)
    assert "outside your working hours" in asked.text and "Open the deal" in " ".join(asked.button_texts)
    await chat.click(ALI, "🌅", message_id=notice.message_id)
    assert await due_times(crm) == [MONDAY_MORNING]
    assert "Moved to" in (await chat.message(ALI, notice.message_id)).text
