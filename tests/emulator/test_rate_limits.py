"""Flood limits give Telegram's 429 with retry_after; injected faults fail or hang calls on demand."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter, TelegramServerError

from telegram_emulator import Emulator
from tests.emulator.support import ANN, TOKEN, Telegram

CARD = {"inline_keyboard": [[{"text": "Next ▶", "callback_data": "next"}]]}


async def test_a_short_burst_to_one_chat_is_fine_and_the_next_message_gets_429(
    tg: Telegram, ann: int
) -> None:
    for n in range(5):
        await tg.ok("sendMessage", chat_id=ANN, text=f"#{n}")
    assert await tg.api("sendMessage", chat_id=ANN, text="one too many") == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )


async def test_aiogram_raises_telegram_retry_after_with_the_seconds_to_wait(
    aiogram_bot: Bot, tg: Telegram, ann: int
) -> None:
    await tg.limits(per_chat_burst=1, per_chat_per_sec=0.25)
    await aiogram_bot.send_message(ANN, "one")
    with pytest.raises(TelegramRetryAfter) as raised:
        await aiogram_bot.send_message(ANN, "two")
    assert raised.value.retry_after == 4


async def test_after_the_burst_the_chat_refills_at_its_rate(tg: Telegram, ann: int) -> None:
    await tg.limits(per_chat_burst=1, per_chat_per_sec=20)
    await tg.ok("sendMessage", chat_id=ANN, text="one")
    assert (await tg.api("sendMessage", chat_id=ANN, text="two"))[0] == 429
    await asyncio.sleep(0.06)
    await tg.ok("sendMessage", chat_id=ANN, text="two")


async def test_a_bot_answering_each_user_action_with_one_edit_is_never_limited(
    tg: Telegram, ann: int
) -> None:
    card = await tg.ok("sendMessage", chat_id=ANN, text="Step 0", reply_markup=CARD)
    for step in range(1, 15):  # far faster than one a second
        pressed = await tg.click(ANN, card["message_id"], "Next ▶")
        await tg.ok("answerCallbackQuery", callback_query_id=pressed["callback_query_id"])
        await tg.ok(
            "editMessageText",
            chat_id=ANN,
            message_id=card["message_id"],
            text=f"Step {step}",
            reply_markup=CARD,
        )


async def test_one_user_action_may_get_an_edit_and_two_messages_but_not_a_flood(
    tg: Telegram, ann: int
) -> None:
    card = await tg.ok("sendMessage", chat_id=ANN, text="Card", reply_markup=CARD)
    await tg.click(ANN, card["message_id"], "Next ▶")
    await tg.ok("editMessageText", chat_id=ANN, message_id=card["message_id"], text="Card ✓")
    await tg.ok("sendMessage", chat_id=ANN, text="Saved")
    await tg.ok("sendMessage", chat_id=ANN, text="Next deal?")
    statuses = [(await tg.api("sendMessage", chat_id=ANN, text=f"spam {n}"))[0] for n in range(4)]
    assert 429 in statuses


async def test_edits_count_toward_the_chat_limit(tg: Telegram, ann: int) -> None:
    await tg.limits(per_chat_burst=2)
    sent = await tg.ok("sendMessage", chat_id=ANN, text="v0")
    await tg.ok("editMessageText", chat_id=ANN, message_id=sent["message_id"], text="v1")
    status, _ = await tg.api("editMessageText", chat_id=ANN, message_id=sent["message_id"], text="v2")
    assert status == 429


async def test_get_updates_get_me_and_callback_answers_are_never_counted(tg: Telegram, ann: int) -> None:
    await tg.limits(per_chat_burst=1, global_burst=1, per_chat_per_sec=0.1, global_per_sec=0.1)
    card = await tg.ok("sendMessage", chat_id=ANN, text="Card", reply_markup=CARD)
    for _ in range(10):
        await tg.ok("getUpdates")
        await tg.ok("getMe")
        pressed = await tg.click(ANN, card["message_id"], "Next ▶")
        await tg.ok("answerCallbackQuery", callback_query_id=pressed["callback_query_id"])


async def test_a_bot_sends_about_30_messages_a_second_across_chats(tg: Telegram, ann: int) -> None:
    users = range(2000, 2040)
    for user_id in users:
        await tg.user(user_id, f"Client {user_id}")
    statuses = await asyncio.gather(*(tg.api("sendMessage", chat_id=u, text="Promo") for u in users))
    sent = sum(1 for status, _ in statuses if status == 200)
    assert 30 <= sent <= 34
    assert {status for status, _ in statuses} == {200, 429}


async def test_a_group_takes_20_messages_a_minute(tg: Telegram, ann: int) -> None:
    group = await tg.post("/emulator/chats", {"title": "Sales team"})
    for n in range(20):
        await tg.ok("sendMessage", chat_id=group["id"], text=f"#{n}")
    status, body = await tg.api("sendMessage", chat_id=group["id"], text="#21")
    assert (status, body["parameters"]["retry_after"]) == (429, 3)


async def test_limits_can_be_switched_off(tg: Telegram, ann: int) -> None:
    assert (await tg.limits(enforce=False))["enforce"] is False
    for n in range(12):
        await tg.ok("sendMessage", chat_id=ANN, text=f"#{n}")


async def test_an_emulator_can_start_without_rate_limits() -> None:
    async with Emulator(rate_limits=False) as emulator, aiohttp.ClientSession() as http:
        limits = await (await http.get(f"{emulator.url}/emulator/limits")).json()
    assert limits["enforce"] is False


async def test_unknown_or_wrong_limits_are_refused(tg: Telegram) -> None:
    assert (await tg.control("POST", "/emulator/limits", {"per_user_per_day": 3}))[0] == 400
    assert (await tg.control("POST", "/emulator/limits", {"per_chat_burst": -1}))[0] == 400


async def test_a_fault_fails_the_next_calls_of_a_method_then_lets_them_through(
    tg: Telegram, ann: int
) -> None:
    await tg.post("/emulator/faults", {"method": "sendMessage", "status": 429, "count": 2, "retry_after": 7})
    for _ in range(2):
        assert await tg.api("sendMessage", chat_id=ANN, text="x") == (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7},
            },
        )
    await tg.ok("sendMessage", chat_id=ANN, text="x")
    assert await tg.get("/emulator/faults") == []


@pytest.mark.parametrize(("status", "description"), [(500, "Internal Server Error"), (502, "Bad Gateway")])
async def test_server_error_faults_reach_aiogram_as_telegram_server_error(
    aiogram_bot: Bot, tg: Telegram, ann: int, status: int, description: str
) -> None:
    await tg.post("/emulator/faults", {"method": "sendmessage", "status": status})
    with pytest.raises(TelegramServerError, match=description):
        await aiogram_bot.send_message(ANN, "x")
    await aiogram_bot.send_message(ANN, "x")


async def test_a_hang_fault_makes_telegram_slow_and_the_call_still_happens(tg: Telegram, ann: int) -> None:
    await tg.post("/emulator/faults", {"method": "sendMessage", "delay_s": 0.3})
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with tg.http.post(
            f"{tg.url}/bot{TOKEN}/sendMessage",
            json={"chat_id": ANN, "text": "slow"},
            timeout=aiohttp.ClientTimeout(total=0.1),
        ):
            pass
    await tg.wait(quiet_ms=50)
    assert time.monotonic() - started >= 0.3
    assert (await tg.last(ANN))["text"] == "slow"  # as on Telegram, a timed-out call may have gone through


async def test_a_fault_for_any_method_can_hit_get_updates(tg: Telegram, ann: int) -> None:
    await tg.post("/emulator/faults", {"method": "*", "status": 502})
    assert await tg.error("getUpdates") == (502, "Bad Gateway")
    assert await tg.ok("getUpdates") == []
