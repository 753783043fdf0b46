"""Telegram's sending limits under pressure: a flood of strangers does not starve the team, and a
member's reply waits out Telegram's 429s until it goes through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.core.pace import StrangerBudget
from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import ALI, BOT_ID, EmulatedChat, RunningKanbot, settings_for
from tests.reliability.nothing_lost import TALLY, presses_answered, updates_handled_once
from tests.support.databases import SQLITE_ONLY

FLOOD = 240  # strangers writing /start at once
BURST = 5  # the strangers' budget in this test: five replies, hardly any more


@pytest.fixture(params=["aiogram", "ptb"])
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, request: pytest.FixtureRequest
) -> AsyncIterator[RunningKanbot]:
    """Kanbot on each runtime: both hand their replies to the same ``perform``."""
    running = RunningKanbot(settings_for(database_url, emulator.url, str(request.param)))
    await running.start()
    yield running
    await running.stop()


async def sent_to(chat: EmulatedChat, users: range) -> int:
    """How many messages the bot got through to ``users`` (429s are not messages)."""
    return sum(
        1
        for e in await chat.log("sendMessage")
        if e["status"] == 200 and int(e["params"].get("chat_id") or 0) in users
    )


async def test_a_flood_of_strangers_neither_drops_nor_crowds_out_a_members_reply(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    """A thousand strangers' /start used up Telegram's global limit, and a seller's /deals got two
    429s and was dropped. Now the strangers get a handful of replies, and the seller gets hers."""
    assert kanbot.kanbot is not None
    kanbot.kanbot.chat.strangers = StrangerBudget(per_second=0.001, burst=BURST)
    ali = await crm.users.identify(ALI)
    await crm.deals.create(actor=ali, title="Starved order", stage="Opportunity")
    await chat.limits(global_per_sec=5, global_burst=5)  # a flood of a few hundred fills it for a minute
    strangers = range(500_000, 500_000 + FLOOD)
    for user_id in strangers:
        await chat.user(user_id, f"Stranger {user_id}")
    updates: list[int] = []

    async def start(user_id: int) -> None:
        updates.append(await chat.send(user_id, "/start", wait=False))

    await asyncio.gather(*(start(u) for u in strangers[: FLOOD // 2]))
    updates.append(await chat.send(ALI, "/deals", wait=False))
    await asyncio.gather(*(start(u) for u in strangers[FLOOD // 2 :]))
    TALLY.fault("stranger flood", FLOOD)
    await chat.wait(timeout_ms=120_000)

    reply = await chat.last(ALI)
    assert "My deals" in reply.text and "Starved order" in str(reply.button_texts), "her /deals answered"
    assert await sent_to(chat, strangers) <= BURST + 1, "strangers got hardly any replies"
    await updates_handled_once(crm.db, bot_id=BOT_ID, update_ids=updates)
    TALLY.cases += 1


@SQLITE_ONLY
async def test_a_members_reply_waits_out_every_429_until_it_goes_through(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    """Telegram answers 429 three times running: the reply was dropped at the second; now each is
    waited out as Telegram asks, for a message and for the edit a press makes."""
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="Patient order", stage="Opportunity")
    await chat.faults("sendMessage", 429, count=3, retry_after=1)
    await chat.send(ALI, "/find Patient order")
    await chat.click(ALI, "Patient order")
    card = await chat.last(ALI)
    assert "Patient order" in card.text and card.button("▶")
    await chat.faults("editMessageText", 429, count=3, retry_after=1)
    pressed = await chat.click(ALI, "▶")
    TALLY.fault("Telegram 429 on a member's reply", 6)
    assert "Commercial offer" in (await chat.message(ALI, card.message_id)).text, "the card redrawn"
    await presses_answered({pressed: await chat.answer(pressed)})
    moved = await crm.deals.get(deal_id=deal.id, actor=ali)
    assert (moved.stage.name, moved.version) == ("Commercial offer", deal.version + 1)
    assert [e["status"] for e in await chat.log() if e["status"] >= 400] == [429] * 6
    assert await chat._get("/faults") == [], "every injected 429 was hit"
    TALLY.cases += 1
