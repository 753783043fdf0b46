"""A real aiogram bot, long polling over real HTTP, works against the emulator unchanged."""

from __future__ import annotations

import io

from aiogram import Bot, Dispatcher, F, html
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonWebApp,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    WebAppInfo,
)

from telegram_emulator import Emulator
from tests.emulator.support import ANN, PNG, Telegram, polling


def kanbot_like() -> Dispatcher:
    """A small bot in the style of Kanbot: a card with buttons, photos, reports, a phone request."""
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        assert message.from_user is not None
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text="Approve", callback_data="approve:7")],
                [InlineKeyboardButton(text="Docs", url="https://example.com/docs")],
            ]
        )
        name = html.quote(message.from_user.first_name)
        await message.answer(
            f"Hello, <b>{name}</b>! from={command.args}", parse_mode="HTML", reply_markup=keyboard
        )

    @dp.callback_query(F.data.startswith("approve:"))
    async def approve(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"Deal {query.data.split(':')[1]} approved ✅")  # type: ignore[union-attr]
        await query.answer("Done", show_alert=True)

    @dp.message(Command("chart"))
    async def chart(message: Message) -> None:
        sent = await message.answer_photo(
            BufferedInputFile(PNG, "chart.png"), caption="<i>Pipeline</i>", parse_mode="HTML"
        )
        assert sent.photo is not None
        await message.answer_photo(sent.photo[-1].file_id, caption="again")

    @dp.message(Command("report"))
    async def report(message: Message, bot: Bot) -> None:
        sent = await message.answer_document(BufferedInputFile(b"deal,amount\nACME,100\n", "deals.csv"))
        assert sent.document is not None
        downloaded = io.BytesIO()
        await bot.download(sent.document.file_id, destination=downloaded)
        await message.answer(f"{len(downloaded.getvalue())} bytes")

    @dp.message(Command("phone"))
    async def phone(message: Message) -> None:
        button = KeyboardButton(text="📱 Share phone", request_contact=True)
        keyboard = ReplyKeyboardMarkup(keyboard=[[button]], resize_keyboard=True, is_persistent=True)
        await message.answer("Share your phone?", reply_markup=keyboard)

    @dp.message(F.contact)
    async def contact(message: Message) -> None:
        assert message.contact is not None
        await message.answer(f"Thanks, {message.contact.phone_number}", reply_markup=ReplyKeyboardRemove())

    return dp


async def test_an_aiogram_bot_answers_a_command_with_formatted_text_and_buttons(
    emulator: Emulator, tg: Telegram, aiogram_bot: Bot, ann: int
) -> None:
    async with polling(emulator, kanbot_like(), aiogram_bot):
        await tg.send(ANN, "/start")
        await tg.wait()
    answer = await tg.last(ANN)
    assert answer["from"] == "bot"
    assert answer["text"] == "Hello, Ann! from=None"
    assert answer["html"] == "Hello, <b>Ann</b>! from=None"
    assert answer["buttons"] == [
        [{"text": "Approve", "callback_data": "approve:7"}],
        [{"text": "Docs", "url": "https://example.com/docs"}],
    ]


async def test_a_deep_link_payload_reaches_the_bot_as_the_start_commands_argument(
    emulator: Emulator, tg: Telegram, aiogram_bot: Bot, ann: int
) -> None:
    async with polling(emulator, kanbot_like(), aiogram_bot):
        await tg.send(ANN, "/start deal_42")
        await tg.wait()
    assert (await tg.last(ANN))["text"] == "Hello, Ann! from=deal_42"


async def test_pressing_a_button_reaches_the_bot_which_edits_the_message_and_answers(
    emulator: Emulator, tg: Telegram, aiogram_bot: Bot, ann: int
) -> None:
    async with polling(emulator, kanbot_like(), aiogram_bot):
        await tg.send(ANN, "/start")
        await tg.wait()
        card = await tg.last(ANN)
        pressed = await tg.click(ANN, card["message_id"], "Approve")
        await tg.wait()
    edited = await tg.last(ANN)
    assert edited["message_id"] == card["message_id"]
    assert (edited["text"], edited["edited"], edited["buttons"]) == ("Deal 7 approved ✅", True, [])
    answer = await tg.get(f"/emulator/callback_answers/{pressed['callback_query_id']}")
    assert (answer["text"], answer["show_alert"]) == ("Done", True)


async def test_an_aiogram_bot_sends_a_photo_and_sends_it_again_by_file_id(
    emulator: Emulator, tg: Telegram, aiogram_bot: Bot, ann: int
) -> None:
    async with polling(emulator, kanbot_like(), aiogram_bot):
        await tg.send(ANN, "/chart")
        await tg.wait()
    first, second = (await tg.messages(ANN))[-2:]
    assert first["photo"] == second["photo"]
    assert (first["caption"], first["html"], second["caption"]) == ("Pipeline", "<i>Pipeline</i>", "again")
    async with tg.http.get(first["photo"]) as response:
        assert (response.status, response.content_type, await response.read()) == (200, "image/png", PNG)


async def test_an_aiogram_bot_downloads_a_document_it_sent_through_get_file(
    emulator: Emulator, tg: Telegram, aiogram_bot: Bot, ann: int
) -> None:
    async with polling(emulator, kanbot_like(), aiogram_bot):
        await tg.send(ANN, "/report")
        await tg.wait()
    document, answer = (await tg.messages(ANN))[-2:]
    assert document["document"]["name"] == "deals.csv"
    assert document["document"]["mime_type"] == "text/csv"
    assert answer["text"] == "21 bytes"


async def test_a_reply_keyboard_stays_with_the_user_until_the_bot_removes_it(
    emulator: Emulator, tg: Telegram, aiogram_bot: Bot, ann: int
) -> None:
    async with polling(emulator, kanbot_like(), aiogram_bot):
        await tg.send(ANN, "/phone")
        await tg.wait()
        shown = (await tg.get(f"/emulator/chats/{ANN}"))["keyboard"]
        await tg.post("/emulator/messages", {"user_id": ANN, "contact": {"phone_number": "+15550100"}})
        await tg.wait()
    assert shown["keyboard"] == [[{"text": "📱 Share phone", "request_contact": True}]]
    assert shown["is_persistent"]
    assert shown["resize_keyboard"]
    assert (await tg.last(ANN))["text"] == "Thanks, +15550100"
    assert (await tg.get(f"/emulator/chats/{ANN}"))["keyboard"] is None


async def test_commands_and_the_menu_button_are_kept_per_scope_and_language(
    aiogram_bot: Bot, ann: int
) -> None:
    scope = BotCommandScopeAllPrivateChats()
    await aiogram_bot.set_my_commands([BotCommand(command="deals", description="Мои сделки")], scope, "ru")
    await aiogram_bot.set_my_commands([BotCommand(command="deals", description="My deals")])
    russian = await aiogram_bot.get_my_commands(scope=scope, language_code="ru")
    assert [(c.command, c.description) for c in russian] == [("deals", "Мои сделки")]
    assert await aiogram_bot.get_my_commands(scope=scope) == []
    await aiogram_bot.delete_my_commands()
    assert await aiogram_bot.get_my_commands() == []

    button = MenuButtonWebApp(text="CRM", web_app=WebAppInfo(url="https://example.com/app"))
    await aiogram_bot.set_chat_menu_button(chat_id=ANN, menu_button=button)
    shown = await aiogram_bot.get_chat_menu_button(chat_id=ANN)
    assert isinstance(shown, MenuButtonWebApp)
    assert (shown.text, shown.web_app.url) == ("CRM", "https://example.com/app")
    assert (await aiogram_bot.get_chat_menu_button()).type == "default"


async def test_get_me_and_get_chat_describe_the_bot_and_the_user(aiogram_bot: Bot, ann: int) -> None:
    me = await aiogram_bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "emulator_123456_bot")
    chat = await aiogram_bot.get_chat(ANN)
    assert (chat.id, chat.type, chat.first_name, chat.username) == (ANN, "private", "Ann", "ann")
