"""A real python-telegram-bot Application works against the emulator with only its base URLs changed."""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from telegram_emulator import Emulator
from tests.emulator.support import ANN, PNG, TOKEN, Telegram

Context = ContextTypes.DEFAULT_TYPE


def build_application(emulator: Emulator) -> Application:  # type: ignore[type-arg]
    """The documented way to point PTB at the emulator: its Bot API and file base URLs."""
    return (
        Application.builder()
        .token(TOKEN)
        .base_url(f"{emulator.url}/bot")
        .base_file_url(f"{emulator.url}/file/bot")
        .build()
    )


async def start(update: Update, context: Context) -> None:
    """Show a deal card with a button."""
    assert update.effective_message is not None
    button = InlineKeyboardButton("Won 🏆", callback_data="won:3")
    await update.effective_message.reply_html(
        "<b>ACME</b> · 1 200 €", reply_markup=InlineKeyboardMarkup([[button]])
    )


async def won(update: Update, context: Context) -> None:
    """Mark the deal won: edit the card, answer the press."""
    query = update.callback_query
    assert query is not None
    await query.edit_message_text(f"<s>ACME</s> won ({query.data})", parse_mode=ParseMode.HTML)
    await query.answer("🎉")


async def files(update: Update, context: Context) -> None:
    """Send a photo and a document, then read both back through getFile."""
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    photo = await context.bot.send_photo(chat_id, PNG, caption="chart")
    document = await context.bot.send_document(chat_id, b"hello", filename="note.txt")
    assert document.document is not None
    photo_file = await context.bot.get_file(photo.photo[-1].file_id)
    document_file = await document.document.get_file()
    sizes = (len(await photo_file.download_as_bytearray()), len(await document_file.download_as_bytearray()))
    await context.bot.send_message(chat_id, f"downloaded {sizes[0]} and {sizes[1]} bytes")


@asynccontextmanager
async def running(emulator: Emulator) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    application = build_application(emulator)
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("files", files))
    application.add_handler(CallbackQueryHandler(won, pattern=r"^won:"))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


async def test_a_ptb_application_answers_a_command_and_edits_its_card_on_a_button_press(
    emulator: Emulator, tg: Telegram, ann: int
) -> None:
    async with running(emulator):
        await tg.send(ANN, "/start")
        await tg.wait()
        card = await tg.last(ANN)
        pressed = await tg.click(ANN, card["message_id"], "Won 🏆")
        await tg.wait()
    assert card["html"] == "<b>ACME</b> · 1 200 €"
    edited = await tg.last(ANN)
    assert (edited["message_id"], edited["html"], edited["edited"]) == (
        card["message_id"],
        "<s>ACME</s> won (won:3)",
        True,
    )
    answer = await tg.get(f"/emulator/callback_answers/{pressed['callback_query_id']}")
    assert answer["text"] == "🎉"


async def test_a_ptb_application_sends_a_photo_and_a_document_and_downloads_them_back(
    emulator: Emulator, tg: Telegram, ann: int
) -> None:
    async with running(emulator):
        await tg.send(ANN, "/files")
        await tg.wait()
    photo, document, report = (await tg.messages(ANN))[-3:]
    assert photo["photo"] is not None
    assert photo["caption"] == "chart"
    assert document["document"]["name"] == "note.txt"
    assert report["text"] == f"downloaded {len(PNG)} and 5 bytes"


async def test_ptb_raises_bad_request_with_telegrams_words_when_an_edit_changes_nothing(
    emulator: Emulator, ann: int
) -> None:
    async with build_application(emulator) as application:
        sent = await application.bot.send_message(ANN, "Same")
        with pytest.raises(BadRequest, match="Message is not modified: specified new message content"):
            await application.bot.edit_message_text("Same", chat_id=ANN, message_id=sent.message_id)


async def test_ptb_raises_forbidden_when_the_user_blocked_the_bot(
    emulator: Emulator, tg: Telegram, ann: int
) -> None:
    await tg.post(f"/emulator/users/{ANN}/block")
    async with build_application(emulator) as application:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await application.bot.send_message(ANN, "Anyone there?")


async def test_ptb_raises_retry_after_when_a_chat_is_flooded(
    emulator: Emulator, tg: Telegram, ann: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 22 warns when retry_after is read as int
    await tg.limits(per_chat_burst=2, per_chat_per_sec=1)
    async with build_application(emulator) as application:
        await application.bot.send_message(ANN, "1")
        await application.bot.send_message(ANN, "2")
        with pytest.raises(RetryAfter) as raised:
            await application.bot.send_message(ANN, "3")
    assert raised.value.retry_after == dtm.timedelta(seconds=1)
