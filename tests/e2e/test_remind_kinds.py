"""Remind asks what it is about — a call, a meeting, an e-mail or something else, with a few words if
the seller likes — then when; the task keeps both, and /tasks, the due-now notice and the morning plan
say them in the reader's language. On the bot's controlled clock: a Tuesday, 10:00 in Ali's time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.core import actions as A
from bot.core.codec import encode
from bot.core.i18n import Tr
from bot.core.widths import too_wide
from crm_core.domain.tasks import Task, TaskKind
from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import (
    ALI,
    MARIA,
    EmulatedChat,
    Msg,
    RunningKanbot,
    crm_at,
    kanbot_ticked_by_hand,
)
from tests.e2e.test_followups_e2e import a_message, tick
from tests.integration.followup_support import without_morning_plans


def labels(msg: Msg) -> list[list[str]]:
    return [[b["text"] for b in row] for row in msg.buttons]


def a_tuesday_morning() -> datetime:
    """10:00 UTC on the next Tuesday: inside working hours."""
    now = datetime.now(UTC)
    return (now + timedelta(days=(1 - now.weekday()) % 7 or 7)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )


TUESDAY = a_tuesday_morning()


@pytest.fixture
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, runtime: str
) -> AsyncIterator[RunningKanbot]:
    async with kanbot_ticked_by_hand(database_url, emulator.url, runtime, at=TUESDAY) as running:
        yield running


async def open_card(chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot, user: int, title: str) -> Msg:
    seller = await crm.users.identify(user)
    await crm_at(crm, kanbot.now()).deals.create(actor=seller, title=title)
    await chat.send(user, f"/find {title.split()[0]}")
    await chat.click(user, title)
    return await chat.last(user)


async def open_tasks(crm: Crm, user: int) -> list[Task]:
    return await crm.tasks.open_tasks(actor=await crm.users.identify(user))


async def test_remind_asks_what_it_is_about_then_when_and_the_task_keeps_both(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    card = await open_card(chat, crm, kanbot, ALI, "Boiler for the school")
    await chat.click(ALI, "Remind", message_id=card.message_id)
    kinds = await chat.message(ALI, card.message_id)
    assert "What is the reminder about?" in kinds.text
    assert kinds.button_texts[:4] == ["📞 Call", "🤝 Meeting", "✉️ E-mail", "📝 Something else"]
    assert all(len(row) <= 3 for row in kinds.buttons) and too_wide(labels(kinds)) == []
    await chat.click(ALI, "📞 Call", message_id=card.message_id)
    when = await chat.message(ALI, card.message_id)
    assert "Call" in when.text and "When?" in when.text and "In 1 hour" in when.button_texts
    await chat.click(ALI, "Add a few words", message_id=card.message_id)
    await chat.send(ALI, "about   the invoice")
    when = await chat.message(ALI, card.message_id)
    assert "Call: about the invoice" in when.text and "Add a few words" not in " ".join(when.button_texts)
    await chat.click(ALI, "In 1 hour", message_id=card.message_id)
    [task] = await open_tasks(crm, ALI)
    assert (task.kind, task.text) == (TaskKind.CALL, "about the invoice")
    assert timedelta(minutes=55) < task.due_at - kanbot.now() <= timedelta(hours=1)
    back = await chat.message(ALI, card.message_id)
    assert "I'll remind you today 11:" in back.text and "Call: about the invoice" in back.text
    assert "Boiler for the school" in back.text and "Remind" in " ".join(back.button_texts)  # the card again
    await chat.send(ALI, "/tasks")
    listed = await chat.last(ALI)
    assert "📞 Call: about the invoice" in listed.text


async def test_a_reminder_without_words_is_said_by_its_kind_and_a_typed_time_is_understood(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    card = await open_card(chat, crm, kanbot, ALI, "Boiler for the school")
    await chat.click(ALI, "Remind", message_id=card.message_id)
    await chat.click(ALI, "🤝 Meeting", message_id=card.message_id)
    await chat.send(ALI, "someday")
    again = await chat.message(ALI, card.message_id)
    assert "couldn't read that time" in again.text and "In 1 hour" in again.button_texts
    assert await open_tasks(crm, ALI) == []
    await chat.send(ALI, "tomorrow 15:00")
    [task] = await open_tasks(crm, ALI)
    assert (task.kind, task.text) == (TaskKind.MEETING, "")
    assert task.due_at == (TUESDAY + timedelta(days=1)).replace(hour=15)
    assert "I'll remind you tomorrow 15:00: Meeting." in (await chat.message(ALI, card.message_id)).text


async def test_a_russian_seller_reads_the_reminder_in_russian_on_tasks_the_notice_and_the_morning_plan(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    ru = Tr("ru")
    card = await open_card(chat, crm, kanbot, MARIA, "Котёл для школы")
    await chat.click(MARIA, ru.label("Remind"), message_id=card.message_id)
    kinds = await chat.message(MARIA, card.message_id)
    assert all(len(row) <= 3 for row in kinds.buttons) and too_wide(labels(kinds)) == []
    await chat.click(MARIA, "✉️", message_id=card.message_id)
    await chat.click(MARIA, ru.label("In 1 hour"), message_id=card.message_id)
    [task] = await open_tasks(crm, MARIA)
    assert (task.kind, task.text) == (TaskKind.EMAIL, "")  # no English stored: the chat words it
    email = str(ru("E-mail"))
    assert email != "E-mail"
    await chat.send(MARIA, "/tasks")
    assert f"✉️ {email}" in (await chat.last(MARIA)).text
    # Her morning plan off, the task comes as a notice of its own whatever the hour (with it on, a tick
    # at the plan's time would list the task in the plan instead: see test_morning_e2e).
    await without_morning_plans(crm, await crm.users.identify(MARIA))
    kanbot.let_time_pass(timedelta(hours=1, minutes=1))
    await tick(crm, kanbot, task.due_at + timedelta(minutes=1))
    [notice] = await a_message(chat, MARIA, str(ru("Due now:")))
    assert email in notice.text and "E-mail" not in notice.text
    await chat.send(MARIA, "/morning")
    plan = await chat.last(MARIA)
    assert email in plan.text and "E-mail" not in plan.text


async def test_an_old_remind_button_and_a_forged_kind_change_nothing(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    card = await open_card(chat, crm, kanbot, ALI, "Boiler for the school")
    [deal] = await crm.deals.find(actor=await crm.users.identify(ALI), query="Boiler")
    await chat.press_data(ALI, card.message_id, encode(A.RemindKind(deal.id, deal.version, "call_back")))
    assert await open_tasks(crm, ALI) == []
    await chat.press_data(ALI, card.message_id, encode(A.Remind(deal.id, deal.version, "1h")))
    [task] = await open_tasks(crm, ALI)
    assert (task.kind, task.text) == (TaskKind.OTHER, "")
    assert "Reminder" in (await chat.message(ALI, card.message_id)).text
