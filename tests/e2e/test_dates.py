"""Dates typed in the chat on the 6th of December, on the bot's controlled clock: "01.12 10:00" has
passed — the bot says so and offers the 1st of December next year as a button, never taking it
silently; a date that is not this year's is shown with its year on the card and in the answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

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


def sixth_of_december() -> datetime:
    """Noon UTC on the next 6 December: a day when "01.12" has just passed."""
    now = datetime.now(UTC)
    day = datetime(now.year, 12, 6, 12, 0, tzinfo=UTC)
    return day if day > now else day.replace(year=now.year + 1)


TODAY = sixth_of_december()
NEXT = TODAY.year + 1


@pytest.fixture
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, runtime: str
) -> AsyncIterator[RunningKanbot]:
    async with kanbot_ticked_by_hand(database_url, emulator.url, runtime, at=TODAY) as running:
        yield running


async def a_card(chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot) -> Msg:
    ali = await crm.users.identify(ALI)
    await crm_at(crm, kanbot.now()).deals.create(actor=ali, title="Boiler for the school")
    await chat.send(ALI, "/find Boiler")
    await chat.click(ALI, "Boiler for the school")
    return await chat.last(ALI)


async def test_a_reminder_on_a_passed_day_is_refused_with_next_years_day_offered(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    card = await a_card(chat, crm, kanbot)
    await chat.click(ALI, "Remind", message_id=card.message_id)
    await chat.click(ALI, "E-mail", message_id=card.message_id)
    await chat.send(ALI, "01.12 10:00")
    refusal = await chat.last(ALI)
    assert refusal.text.startswith("⚠️ That date has passed.")
    assert refusal.message_id == card.message_id  # asked again in the card's message, nothing added
    assert refusal.button_texts == [f"📅 Next year: 1 Dec {NEXT}, 10:00", "⬅ Back to the card"]
    ali = await crm.users.identify(ALI)
    assert await crm.tasks.open_tasks(actor=ali) == []  # nothing planned a year away by a typo
    await chat.click(ALI, "Next year", message_id=refusal.message_id)
    shown = await chat.last(ALI)
    assert f"I'll remind you 1 Dec {NEXT}, 10:00: E-mail." in shown.text
    assert f"E-mail — 1 Dec {NEXT}, 10:00" in shown.text
    [task] = await crm.tasks.open_tasks(actor=ali)
    assert task.due_at == datetime(NEXT, 12, 1, 10, 0, tzinfo=UTC)
    await chat.send(ALI, "/tasks")
    assert f"1 Dec {NEXT}, 10:00" in (await chat.last(ALI)).text


async def test_a_day_still_ahead_this_year_is_taken_and_shown_without_a_year(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    card = await a_card(chat, crm, kanbot)
    await chat.click(ALI, "Remind", message_id=card.message_id)
    await chat.click(ALI, "Meeting", message_id=card.message_id)
    # a working day in the week before Christmas (a weekend day would be offered for Monday first)
    day = next(d for d in range(20, 27) if datetime(TODAY.year, 12, d).weekday() < 5)
    await chat.send(ALI, f"{day}.12 15:00")
    shown = await chat.last(ALI)
    assert f"I'll remind you {day} Dec, 15:00: Meeting." in shown.text and str(NEXT) not in shown.text


async def test_a_snooze_until_a_passed_day_is_refused_with_next_years_day_offered(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    card = await a_card(chat, crm, kanbot)
    await chat.click(ALI, "⋯ More", message_id=card.message_id)
    await chat.click(ALI, "Snooze", message_id=card.message_id)
    await chat.click(ALI, "Until a date", message_id=card.message_id)
    await chat.send(ALI, "01.12")
    refusal = await chat.last(ALI)
    assert refusal.text.startswith("⚠️ That date has passed.")
    ali = await crm.users.identify(ALI)
    [deal] = await crm.deals.list_deals(actor=ali)
    assert deal.snoozed_until is None
    await chat.click(ALI, f"1 Dec {NEXT}", message_id=refusal.message_id)
    assert f"Snoozing until 1 Dec {NEXT}, 09:00" in (await chat.last(ALI)).text
    await chat.click(ALI, "No reason")
    assert f"Snoozed until 1 Dec {NEXT}, 09:00" in (await chat.last(ALI)).text
    snoozed = await crm.deals.get(deal_id=deal.id, actor=ali)
    assert snoozed.snoozed_until == datetime(NEXT, 12, 1, 9, 0, tzinfo=UTC)
