"""Inline and reply keyboards are checked as Telegram checks them, and the user sees them."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from tests.emulator.support import ANN, Telegram


def inline(*rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"inline_keyboard": list(rows)}


def data_button(data: str, text: str = "Go") -> dict[str, Any]:
    return {"text": text, "callback_data": data}


async def test_a_65_byte_callback_data_is_refused_with_button_data_invalid(
    aiogram_bot: Bot, ann: int
) -> None:
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data="x" * 65)]])
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await aiogram_bot.send_message(ANN, "Deal", reply_markup=markup)


async def test_a_64_byte_callback_data_is_accepted(tg: Telegram, ann: int) -> None:
    await tg.ok("sendMessage", chat_id=ANN, text="Deal", reply_markup=inline([data_button("x" * 64)]))


async def test_callback_data_is_measured_in_utf8_bytes_not_characters(tg: Telegram, ann: int) -> None:
    # 33 Cyrillic letters are 66 bytes.
    markup = inline([data_button("я" * 33)])
    assert await tg.error("sendMessage", chat_id=ANN, text="Deal", reply_markup=markup) == (
        400,
        "Bad Request: BUTTON_DATA_INVALID",
    )


async def test_an_empty_callback_data_is_refused(tg: Telegram, ann: int) -> None:
    markup = inline([data_button("")])
    assert await tg.error("sendMessage", chat_id=ANN, text="x", reply_markup=markup) == (
        400,
        "Bad Request: BUTTON_DATA_INVALID",
    )


async def test_more_than_100_inline_buttons_are_refused(tg: Telegram, ann: int) -> None:
    rows = [[data_button(f"{r}-{c}") for c in range(8)] for r in range(13)]  # 104 buttons
    assert await tg.error("sendMessage", chat_id=ANN, text="x", reply_markup=inline(*rows)) == (
        400,
        "Bad Request: reply markup is too long",
    )


async def test_more_than_8_buttons_in_a_row_are_refused(tg: Telegram, ann: int) -> None:
    row = [data_button(str(c)) for c in range(9)]
    assert await tg.error("sendMessage", chat_id=ANN, text="x", reply_markup=inline(row)) == (
        400,
        "Bad Request: reply markup is too long",
    )


async def test_a_button_with_no_action_is_refused_as_a_text_button(tg: Telegram, ann: int) -> None:
    status, description = await tg.error(
        "sendMessage", chat_id=ANN, text="x", reply_markup=inline([{"text": "Go"}])
    )
    assert (status, description) == (
        400,
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
    )


async def test_a_button_with_two_actions_is_refused(tg: Telegram, ann: int) -> None:
    button = {"text": "Go", "callback_data": "go", "url": "https://example.com"}
    status, description = await tg.error("sendMessage", chat_id=ANN, text="x", reply_markup=inline([button]))
    assert status == 400
    assert "exactly one of the optional fields" in description


async def test_a_url_button_needs_a_link(tg: Telegram, ann: int) -> None:
    markup = inline([{"text": "Site", "url": "example dot com"}])
    assert await tg.error("sendMessage", chat_id=ANN, text="x", reply_markup=markup) == (
        400,
        "Bad Request: BUTTON_URL_INVALID",
    )


async def test_a_web_app_button_is_kept_in_a_private_chat_and_refused_in_a_group(
    tg: Telegram, ann: int
) -> None:
    markup = inline([{"text": "Open CRM", "web_app": {"url": "https://example.com/app"}}])
    await tg.ok("sendMessage", chat_id=ANN, text="Mini App", reply_markup=markup)
    assert (await tg.last(ANN))["buttons"] == [
        [{"text": "Open CRM", "web_app": {"url": "https://example.com/app"}}]
    ]
    group = await tg.post("/emulator/chats", {"title": "Sales"})
    assert await tg.error("sendMessage", chat_id=group["id"], text="x", reply_markup=markup) == (
        400,
        "Bad Request: BUTTON_TYPE_INVALID",
    )


async def test_a_reply_keyboard_is_shown_with_its_message_and_under_the_input(tg: Telegram, ann: int) -> None:
    keyboard = {
        "keyboard": [[{"text": "📋 Deals"}, "➕ New"], [{"text": "📱 Phone", "request_contact": True}]],
        "is_persistent": True,
        "resize_keyboard": True,
        "input_field_placeholder": "Pick one",
    }
    await tg.ok("sendMessage", chat_id=ANN, text="Menu", reply_markup=keyboard)
    expected_rows = [
        [{"text": "📋 Deals"}, {"text": "➕ New"}],
        [{"text": "📱 Phone", "request_contact": True}],
    ]
    message = await tg.last(ANN)
    assert message["keyboard"]["keyboard"] == expected_rows
    chat = await tg.get(f"/emulator/chats/{ANN}")
    assert chat["keyboard"]["keyboard"] == expected_rows
    assert chat["keyboard"]["input_field_placeholder"] == "Pick one"


async def test_a_reply_keyboard_remove_takes_the_keyboard_away(tg: Telegram, ann: int) -> None:
    await tg.ok("sendMessage", chat_id=ANN, text="Menu", reply_markup={"keyboard": [["A"]]})
    await tg.ok("sendMessage", chat_id=ANN, text="Bye", reply_markup={"remove_keyboard": True})
    assert (await tg.get(f"/emulator/chats/{ANN}"))["keyboard"] is None


async def test_a_one_time_keyboard_hides_once_the_user_answers(tg: Telegram, ann: int) -> None:
    await tg.ok(
        "sendMessage",
        chat_id=ANN,
        text="Sure?",
        reply_markup={"keyboard": [["Yes"]], "one_time_keyboard": True},
    )
    await tg.send(ANN, "Yes")
    assert (await tg.get(f"/emulator/chats/{ANN}"))["keyboard"] is None


async def test_an_edit_takes_only_an_inline_keyboard(tg: Telegram, ann: int) -> None:
    sent = await tg.ok("sendMessage", chat_id=ANN, text="Card")
    status, description = await tg.error(
        "editMessageText",
        chat_id=ANN,
        message_id=sent["message_id"],
        text="New",
        reply_markup={"keyboard": [["A"]]},
    )
    assert (status, description) == (400, "Bad Request: inline keyboard expected")


async def test_sent_messages_echo_their_inline_keyboard_but_not_a_reply_keyboard(
    tg: Telegram, ann: int
) -> None:
    with_inline = await tg.ok("sendMessage", chat_id=ANN, text="a", reply_markup=inline([data_button("go")]))
    with_reply = await tg.ok("sendMessage", chat_id=ANN, text="b", reply_markup={"keyboard": [["A"]]})
    assert with_inline["reply_markup"] == inline([data_button("go")])
    assert "reply_markup" not in with_reply
