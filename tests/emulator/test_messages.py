"""Edits, deletions, callback answers, blocked users and unknown chats fail as they do on Telegram."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from tests.emulator.support import ANN, BOB, Telegram

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CARD = {"inline_keyboard": [[{"text": "Next ▶", "callback_data": "next"}]]}


async def test_editing_a_message_to_the_same_text_and_keyboard_is_not_modified(
    tg: Telegram, ann: int
) -> None:
    sent = await tg.ok("sendMessage", chat_id=ANN, text="<b>Card</b>", parse_mode="HTML", reply_markup=CARD)
    same = {"chat_id": ANN, "message_id": sent["message_id"], "text": "<b>Card</b>", "parse_mode": "HTML"}
    assert await tg.error("editMessageText", **same, reply_markup=CARD) == (400, NOT_MODIFIED)
    assert await tg.error(
        "editMessageReplyMarkup", chat_id=ANN, message_id=sent["message_id"], reply_markup=CARD
    ) == (
        400,
        NOT_MODIFIED,
    )


async def test_an_edit_that_only_drops_the_keyboard_is_a_change(tg: Telegram, ann: int) -> None:
    sent = await tg.ok("sendMessage", chat_id=ANN, text="Card", reply_markup=CARD)
    edited = await tg.ok("editMessageText", chat_id=ANN, message_id=sent["message_id"], text="Card")
    assert "reply_markup" not in edited
    assert edited["edit_date"] >= sent["date"]


async def test_an_edit_with_new_formatting_only_is_a_change(tg: Telegram, ann: int) -> None:
    sent = await tg.ok("sendMessage", chat_id=ANN, text="Card")
    await tg.ok(
        "editMessageText", chat_id=ANN, message_id=sent["message_id"], text="<b>Card</b>", parse_mode="HTML"
    )
    assert (await tg.last(ANN))["html"] == "<b>Card</b>"


async def test_aiogram_raises_bad_request_when_an_edit_changes_nothing(aiogram_bot: Bot, ann: int) -> None:
    sent = await aiogram_bot.send_message(ANN, "Card")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await aiogram_bot.edit_message_text("Card", chat_id=ANN, message_id=sent.message_id)


async def test_editing_a_message_that_does_not_exist_is_refused(tg: Telegram, ann: int) -> None:
    assert await tg.error("editMessageText", chat_id=ANN, message_id=999, text="x") == (
        400,
        "Bad Request: message to edit not found",
    )


async def test_editing_a_deleted_message_is_refused_as_not_found(tg: Telegram, ann: int) -> None:
    sent = await tg.ok("sendMessage", chat_id=ANN, text="Card")
    await tg.ok("deleteMessage", chat_id=ANN, message_id=sent["message_id"])
    assert await tg.error("editMessageText", chat_id=ANN, message_id=sent["message_id"], text="x") == (
        400,
        "Bad Request: message to edit not found",
    )


async def test_a_bot_cannot_edit_a_users_message(tg: Telegram, ann: int) -> None:
    theirs = await tg.send(ANN, "hello")
    assert await tg.error("editMessageText", chat_id=ANN, message_id=theirs["message_id"], text="x") == (
        400,
        "Bad Request: message can't be edited",
    )


async def test_deleting_a_message_marks_it_deleted_for_the_user(tg: Telegram, ann: int) -> None:
    sent = await tg.ok("sendMessage", chat_id=ANN, text="Oops")
    assert await tg.ok("deleteMessage", chat_id=ANN, message_id=sent["message_id"]) is True
    [message] = await tg.messages(ANN)
    assert (message["message_id"], message["deleted"]) == (sent["message_id"], True)


async def test_deleting_a_message_twice_or_one_that_never_was_is_refused(tg: Telegram, ann: int) -> None:
    sent = await tg.ok("sendMessage", chat_id=ANN, text="Oops")
    await tg.ok("deleteMessage", chat_id=ANN, message_id=sent["message_id"])
    for message_id in (sent["message_id"], 777):
        assert await tg.error("deleteMessage", chat_id=ANN, message_id=message_id) == (
            400,
            "Bad Request: message to delete not found",
        )


async def test_a_bot_may_delete_a_users_message_in_a_private_chat(tg: Telegram, ann: int) -> None:
    theirs = await tg.send(ANN, "my password is hunter2")
    await tg.ok("deleteMessage", chat_id=ANN, message_id=theirs["message_id"])
    assert (await tg.messages(ANN))[0]["deleted"] is True


async def test_answering_a_callback_query_twice_is_refused_as_too_old(tg: Telegram, ann: int) -> None:
    sent = await tg.ok("sendMessage", chat_id=ANN, text="Card", reply_markup=CARD)
    pressed = await tg.click(ANN, sent["message_id"], "Next ▶")
    await tg.ok("answerCallbackQuery", callback_query_id=pressed["callback_query_id"])
    assert await tg.error("answerCallbackQuery", callback_query_id=pressed["callback_query_id"]) == (
        400,
        TOO_OLD,
    )


async def test_answering_a_callback_query_too_late_is_refused_as_too_old(tg: Telegram, ann: int) -> None:
    await tg.limits(callback_timeout_s=0.1)
    sent = await tg.ok("sendMessage", chat_id=ANN, text="Card", reply_markup=CARD)
    pressed = await tg.click(ANN, sent["message_id"], "Next ▶")
    await asyncio.sleep(0.15)
    assert await tg.error("answerCallbackQuery", callback_query_id=pressed["callback_query_id"]) == (
        400,
        TOO_OLD,
    )
    status, _ = await tg.control("GET", f"/emulator/callback_answers/{pressed['callback_query_id']}")
    assert status == 404


async def test_answering_an_unknown_callback_query_is_refused_as_too_old(tg: Telegram, ann: int) -> None:
    assert await tg.error("answerCallbackQuery", callback_query_id="12345") == (400, TOO_OLD)


async def test_a_callback_answer_over_200_characters_is_refused(tg: Telegram, ann: int) -> None:
    sent = await tg.ok("sendMessage", chat_id=ANN, text="Card", reply_markup=CARD)
    pressed = await tg.click(ANN, sent["message_id"], "Next ▶")
    query = pressed["callback_query_id"]
    assert await tg.error("answerCallbackQuery", callback_query_id=query, text="x" * 201) == (
        400,
        "Bad Request: MESSAGE_TOO_LONG",
    )
    await tg.ok("answerCallbackQuery", callback_query_id=query, text="x" * 200)


async def test_sending_to_a_user_who_blocked_the_bot_is_forbidden(
    aiogram_bot: Bot, tg: Telegram, ann: int
) -> None:
    await tg.post(f"/emulator/users/{ANN}/block")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await aiogram_bot.send_message(ANN, "Reminder")
    assert await tg.error("sendChatAction", chat_id=ANN, action="typing") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    await tg.post(f"/emulator/users/{ANN}/unblock")
    await aiogram_bot.send_message(ANN, "Welcome back")


async def test_blocking_and_unblocking_send_the_bot_my_chat_member_updates(tg: Telegram, ann: int) -> None:
    await tg.post(f"/emulator/users/{ANN}/block")
    await tg.post(f"/emulator/users/{ANN}/unblock")
    kicked, back = await tg.ok("getUpdates")
    assert kicked["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    assert back["my_chat_member"]["new_chat_member"]["status"] == "member"
    assert back["my_chat_member"]["from"]["id"] == ANN


async def test_sending_to_an_unknown_chat_is_chat_not_found(tg: Telegram, ann: int) -> None:
    assert await tg.error("sendMessage", chat_id=BOB, text="Hi") == (400, "Bad Request: chat not found")
    assert await tg.error("sendMessage", chat_id="@nobody", text="Hi") == (400, "Bad Request: chat not found")
    assert await tg.error("getChat", chat_id=-42) == (400, "Bad Request: chat not found")


async def test_a_reply_to_a_missing_message_is_refused_unless_allowed(tg: Telegram, ann: int) -> None:
    assert await tg.error("sendMessage", chat_id=ANN, text="x", reply_parameters={"message_id": 50}) == (
        400,
        "Bad Request: message to be replied not found",
    )
    reply = {"message_id": 50, "allow_sending_without_reply": True}
    await tg.ok("sendMessage", chat_id=ANN, text="x", reply_parameters=reply)


async def test_a_reply_carries_the_message_it_answers(tg: Telegram, ann: int) -> None:
    theirs = await tg.send(ANN, "Price?")
    sent = await tg.ok(
        "sendMessage", chat_id=ANN, text="100 €", reply_parameters={"message_id": theirs["message_id"]}
    )
    assert sent["reply_to_message"]["text"] == "Price?"
    assert (await tg.last(ANN))["reply_to_message_id"] == theirs["message_id"]


async def test_send_chat_action_shows_typing_and_refuses_unknown_actions(tg: Telegram, ann: int) -> None:
    assert await tg.ok("sendChatAction", chat_id=ANN, action="typing") is True
    assert (await tg.get(f"/emulator/chats/{ANN}"))["action"] == "typing"
    assert await tg.error("sendChatAction", chat_id=ANN, action="dancing") == (
        400,
        "Bad Request: wrong parameter action in request",
    )
