"""Telegram updates into the chat core's events, read from aiogram's and python-telegram-bot's models.

In a private chat Telegram's ``chat.id`` is the sender's id; an update saying otherwise is forged and
is refused, whichever framework read it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from bot.core.events import ButtonPress, Command, from_callback, from_message

BOSS, OUTSIDER, GROUP = 1001, 9002, -100123


def message(
    chat_id: int, chat_type: str = "private", sender: int = BOSS, text: str = "/report"
) -> dict[str, Any]:
    return {
        "message_id": 5,
        "date": 1_715_678_400,
        "chat": {"id": chat_id, "type": chat_type},
        "from": {"id": sender, "is_bot": False, "first_name": "Olga"},
        "text": text,
    }


def press(chat_id: int | None, presser: int = BOSS) -> dict[str, Any]:
    query: dict[str, Any] = {
        "id": "q1",
        "chat_instance": "1",
        "from": {"id": presser, "is_bot": False, "first_name": "Olga"},
        "data": "1mn",
    }
    if chat_id is not None:
        query["message"] = message(chat_id, sender=700001) | {
            "from": {"id": 700001, "is_bot": True, "first_name": "K"}
        }
    return {"update_id": 7, "callback_query": query}


def aiogram_update(data: dict[str, Any]) -> Any:
    from aiogram.types import Update

    return Update.model_validate(data)


def ptb_update(data: dict[str, Any]) -> Any:
    from telegram import Update

    return Update.de_json(data, None)


FRAMEWORKS = pytest.mark.parametrize("read", [aiogram_update, ptb_update], ids=["aiogram", "ptb"])
Read = Callable[[dict[str, Any]], Any]


@FRAMEWORKS
def test_a_private_message_from_someone_elses_chat_is_refused_and_logged(
    read: Read, caplog: pytest.LogCaptureFixture
) -> None:
    update = read({"update_id": 7, "message": message(OUTSIDER)})
    with caplog.at_level(logging.WARNING):
        assert from_message(update.message, 7, "kanbot_bot") is None
    assert f"update 7 refused: its private chat {OUTSIDER} is not its sender {BOSS}'s" in caplog.text


@FRAMEWORKS
def test_a_press_on_a_message_in_someone_elses_private_chat_is_refused(read: Read) -> None:
    update = read(press(OUTSIDER))
    assert from_callback(update.callback_query, 7) is None


@FRAMEWORKS
def test_a_private_message_is_answered_in_its_senders_chat(read: Read) -> None:
    event = from_message(read({"update_id": 7, "message": message(BOSS)}).message, 7, "kanbot_bot")
    assert isinstance(event, Command)
    assert (event.name, event.chat_id, event.sender.id, event.private) == ("report", BOSS, BOSS, True)


@FRAMEWORKS
@pytest.mark.parametrize("chat_id", [BOSS, None], ids=["on-a-message", "inline-no-message"])
def test_a_press_is_answered_in_the_pressers_chat(read: Read, chat_id: int | None) -> None:
    event = from_callback(read(press(chat_id)).callback_query, 7)
    assert isinstance(event, ButtonPress)
    assert (event.chat_id, event.sender.id, event.private) == (BOSS, BOSS, True)


@FRAMEWORKS
def test_a_group_message_keeps_its_group_for_the_one_line_answer(read: Read) -> None:
    event = from_message(read({"update_id": 7, "message": message(GROUP, "supergroup")}).message, 7, None)
    assert event is not None
    assert (event.chat_id, event.chat_type, event.private) == (GROUP, "supergroup", False)
