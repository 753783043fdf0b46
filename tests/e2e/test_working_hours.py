"""A reminder that would fall outside the seller's working hours, on the bot's controlled clock: "in 1
hour" at 23:26 on a Thursday is offered for Friday 09:00 instead, or kept at 00:26 if the seller says so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.core import actions as A
from bot.core.codec import encode
from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import (
    ALI,
    EmulatedChat,
    RunningKanbot,
    crm_at,
    kanbot_ticked_by_hand,
)


def a_thursday_night() -> datetime:
    """23:26 UTC (Ali's time) on the next Thursday."""
    now = datetime.now(UTC)
    day = (now + timedelta(days=(3 - now.weekday()) % 7 or 7)).replace(
        hour=23, minute=26, second=0, microsecond=0
    )
    return day


NIGHT = a_thursday_night()


@pytest.fixture
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, runtime: str
) -> AsyncIterator[RunningKanbot]:
    async with kanbot_ticked_by_hand(database_url, emulator.url, runtime, at=NIGHT) as running:
        yield running


async def remind_in_an_hour(chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot) -> str:
    """Press "remind me in 1 hour" on a fresh card; the bot's answer."""
    ali = await crm.users.identify(ALI)
    deal = await crm_at(crm, kanbot.now()).deals.create(actor=ali, title="Boiler for the school")
    await chat.send(ALI, "/find Boiler")
    await chat.click(ALI, "Boiler for the school")
    card = await chat.last(ALI)
    await chat.click(ALI, "Remind", message_id=card.message_id)
    await chat.click(ALI, "Meeting", message_id=card.message_id)
    await chat.click(ALI, "Add a few words", message_id=card.message_id)
    await chat.send(ALI, "at the school")
    await chat.click(ALI, "In 1 hour", message_id=card.message_id)
    assert deal.id  # the deal the card is of
    return (await chat.last(ALI)).text


async def test_an_old_remind_button_at_night_asks_about_working_hours_too(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm_at(crm, kanbot.now()).deals.create(actor=ali, title="Boiler for the school")
    await chat.send(ALI, "/find Boiler")
    await chat.click(ALI, "Boiler for the school")
    card = await chat.last(ALI)
    await chat.press_data(ALI, card.message_id, encode(A.Remind(deal.id, deal.version, "1h")))
    assert "outside your working hours" in (await chat.last(ALI)).text and await due_times(crm) == []


async def due_times(crm: Crm) -> list[datetime]:
    ali = await crm.users.identify(ALI)
    return [t.due_at for t in await crm.tasks.open_tasks(actor=ali)]


async def test_a_reminder_at_night_is_offered_for_the_next_working_morning(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    asked = await remind_in_an_hour(chat, crm, kanbot)
    assert "outside your working hours" in asked and await due_times(crm) == []
    await chat.click(ALI, "🌅 tomorrow 09:00")
    morning = (NIGHT + timedelta(days=1)).replace(hour=9, minute=0)
    assert await due_times(crm) == [morning]
    assert "I'll remind you tomorrow 09:00: Meeting: at the school." in (await chat.last(ALI)).text
    [task] = await crm.tasks.open_tasks(actor=await crm.users.identify(ALI))
    assert (task.kind.value, task.text) == ("meeting", "at the school")  # kept through the question


async def test_a_seller_who_insists_keeps_the_exact_time(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await remind_in_an_hour(chat, crm, kanbot)
    await chat.click(ALI, "Keep tomorrow 00:")
    [due] = await due_times(crm)  # an hour after the press, on a clock that runs on from 23:26
    assert NIGHT + timedelta(hours=1) <= due < NIGHT + timedelta(hours=1, minutes=5)
