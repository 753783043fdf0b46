"""Call floods through the real bot and the Telegram emulator: a number calling again and again is a
notice or two with every call counted, and a flood of new numbers is one notice for the boss."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from crm_core.services import Crm
from kanbot.settings import CoreSettings
from telegram_emulator import Emulator
from tests.e2e.harness import ALI, BOSS, EmulatedChat, RunningKanbot, settings_for
from tests.e2e.test_calls import post_call, said_to

FLOOD_LIMIT = 3


@pytest.fixture
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, runtime: str
) -> AsyncIterator[RunningKanbot]:
    """``kanbot run`` with a flood limit of three new numbers in five minutes."""
    settings = settings_for(database_url, emulator.url, runtime)
    settings.core = CoreSettings(
        _env_file=None,
        database_url=database_url,
        default_region="RU",
        default_currency="RUB",
        call_flood_new_numbers=FLOOD_LIMIT,
        call_flood_minutes=5,
    )  # type: ignore[call-arg]
    running = RunningKanbot(settings)
    await running.start()
    yield running
    await running.stop()


async def missed(kanbot: RunningKanbot, call_id: str, caller: str) -> None:
    ended = datetime.now(UTC).isoformat()
    await post_call(
        kanbot,
        call_id=call_id,
        caller=caller,
        status="missed",
        answered_by=None,
        answered_at=None,
        ended_at=ended,
        duration_s=0,
    )


async def nothing_due(chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot) -> None:
    """Wait until the outbox sent what is due (a chat's next message waits a second or so after its last;
    a follow-up notice waits minutes)."""

    async def settled() -> bool:
        async with crm.db.uow(write=False) as uow:
            waiting = await uow.outbox.pending(limit=100)
        return not [item for item in waiting if item["not_before"] <= kanbot.now() + timedelta(seconds=30)]

    await chat.wait_until(settled, what="the outbox to send what is due")


def calls_counted(text: str) -> int:
    """How many calls a missed-call notice speaks of."""
    if found := re.search(r"(\d+) missed calls from|called again: (\d+) more missed call", text):
        return int(found.group(1) or found.group(2))
    return 1 if "Missed call from" in text else 0


async def test_a_number_calling_twelve_times_is_at_most_two_notices_counting_every_call(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    for n in range(12):
        await missed(kanbot, f"again-{n}", "8 495 123-45-67")
    await said_to(chat, ALI, "please call back")
    await nothing_due(chat, crm, kanbot)
    kanbot.let_time_pass(timedelta(minutes=11))  # the window after the first notice
    await nothing_due(chat, crm, kanbot)

    notices = [m.text for m in await chat.bot_messages(ALI) if calls_counted(m.text)]
    assert 1 <= len(notices) <= 2, notices
    assert sum(calls_counted(text) for text in notices) == 12, notices


async def test_a_flood_of_new_numbers_is_one_notice_for_the_boss_and_no_more_pages_for_the_seller(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    for n in range(12):
        await missed(kanbot, f"flood-{n}", f"+7916{n:07d}")
    flood = await said_to(chat, BOSS, "Call flood")
    await nothing_due(chat, crm, kanbot)

    assert "Held back so far" in flood.text
    assert len([m for m in await chat.bot_messages(BOSS) if "Call flood" in m.text]) == 1
    assert len([m for m in await chat.bot_messages(ALI) if "Missed call" in m.text]) == FLOOD_LIMIT
