"""Calls reach the chat: the pop-up card for the seller who answered, the call-back card for a missed call."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from crm_core.services import Crm
from telephony_bridge.signing import HEADER, sign
from tests.e2e.harness import ALI, BOSS, CALLS_SECRET, EmulatedChat, Msg, RunningKanbot


async def said_to(chat: EmulatedChat, user_id: int, text: str) -> Msg:
    """Wait until the bot has said ``text`` to the user on its own (through the outbox), and return it."""

    async def said() -> bool:
        return any(text in m.text for m in await chat.bot_messages(user_id))

    await chat.wait_until(said, what=f"{text!r} in {user_id}'s chat")
    return next(m for m in reversed(await chat.bot_messages(user_id)) if text in m.text)


async def post_call(kanbot: RunningKanbot, **fields: Any) -> dict[str, Any]:
    started = datetime.now(UTC) - timedelta(seconds=30)
    body = {
        "call_id": "c-1",
        "provider": "generic",
        "direction": "inbound",
        "status": "answered",
        "caller": "8 495 123-45-67",
        "dialed": "+74950000000",
        "rang": ["101"],
        "answered_by": "101",
        "transfers": [],
        "started_at": started.isoformat(),
        "answered_at": started.isoformat(),
        "ended_at": None,
        "duration_s": None,
    } | fields
    raw = json.dumps(body).encode()
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{kanbot.http_url}/api/v1/calls",
            data=raw,
            headers={HEADER: sign(raw, CALLS_SECRET), "Content-Type": "application/json"},
        ) as response,
    ):
        assert response.status == 202, await response.text()
        return await response.json()  # type: ignore[no-any-return]


async def test_an_answered_call_from_a_new_customer_pops_up_in_the_answering_sellers_chat(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    outcome = await post_call(kanbot)
    card = await said_to(chat, ALI, "New customer on the line")
    assert "+7 495 123-45-67" in card.text
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.get(deal_id=outcome["deal_id"], actor=ali)
    assert deal.owner is not None and deal.owner.telegram_id == ALI
    assert deal.source.value == "call"


async def test_the_same_call_reported_twice_makes_one_deal_and_one_pop_up(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    first = await post_call(kanbot)
    again = await post_call(kanbot)
    await said_to(chat, ALI, "on the line")
    await chat.wait()
    assert again["duplicate"] and again["deal_id"] == first["deal_id"]
    pop_ups = [m for m in await chat.bot_messages(ALI) if "on the line" in m.text]
    assert len(pop_ups) == 1


async def test_a_missed_call_gives_its_seller_a_call_back_card_that_closes_the_task(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    ended = datetime.now(UTC).isoformat()
    await post_call(
        kanbot,
        call_id="m-1",
        status="missed",
        answered_by=None,
        answered_at=None,
        ended_at=ended,
        duration_s=0,
    )
    await said_to(chat, ALI, "Missed call")
    await chat.click(ALI, "Called back")
    ali = await crm.users.identify(ALI)
    assert await crm.tasks.open_tasks(actor=ali) == []
    assert "Called back" in (await chat.last(ALI)).text


async def test_a_russian_speaking_seller_reads_the_call_back_task_in_russian(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    ali = await crm.users.identify(ALI)
    await crm.users.update_preferences(actor=ali, locale="ru")
    ended = datetime.now(UTC).isoformat()
    await post_call(
        kanbot, call_id="m-ru", status="missed", answered_by=None, answered_at=None, ended_at=ended
    )
    await said_to(chat, ALI, "Пропущенный звонок")
    await chat.send(ALI, "/tasks")
    tasks = (await chat.last(ALI)).text
    assert "Перезвонить: +7 495 123-45-67" in tasks, tasks
    assert "Call back" not in tasks
    (task,) = await crm.tasks.open_tasks(actor=ali)
    assert (task.phone, task.text) == ("+74951234567", "")  # no English stored: data, worded by each reader


async def test_a_missed_call_nobody_owns_is_told_to_the_boss(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    for seller in (ALI, 2002):
        await crm.users.deactivate(telegram_id=seller)
    ended = datetime.now(UTC).isoformat()
    await post_call(
        kanbot,
        call_id="m-2",
        status="missed",
        answered_by=None,
        answered_at=None,
        rang=[],
        ended_at=ended,
        duration_s=0,
    )
    assert "nobody owns it" in (await said_to(chat, BOSS, "nobody owns it")).text


async def test_without_a_phone_system_that_places_calls_a_call_back_in_the_task_list_has_no_call_button(
    chat: EmulatedChat, kanbot: RunningKanbot
) -> None:
    await post_call(kanbot, status="missed", answered_by=None, answered_at=None, ended_at=None)
    await said_to(chat, ALI, "Missed call from")
    await chat.send(ALI, "/tasks")
    listed = await chat.last(ALI)
    assert "Call back +7 495 123-45-67" in listed.text
    assert "📞 Call" not in listed.button_texts
