"""The chat page in headless Chromium, talking to a real aiogram bot through the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    WebAppInfo,
)
from aiohttp import web

from telegram_emulator import Emulator
from tests.emulator.support import ANN, Telegram, make_png, polling

pytestmark = pytest.mark.browser

CHART = make_png(480, 260, (88, 166, 255))


def deal_buttons(*, approved: bool) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(text="Docs", url="https://example.com/docs"),
            InlineKeyboardButton(text="Invite", url="https://t.me/emulator_123456_bot?start=ref42"),
        ],
        [InlineKeyboardButton(text="Open CRM", web_app=WebAppInfo(url="https://example.com/app"))],
    ]
    if not approved:
        rows.insert(0, [InlineKeyboardButton(text="✅ Approve deal", callback_data="approve")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def demo_bot() -> Dispatcher:
    """A bot that uses what the page must show: formatting, both keyboards, photos, RTL text."""
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        assert message.from_user is not None
        via = f" (via <code>{command.args}</code>)" if command.args else ""
        await message.answer(
            f"Welcome to <b>Kanbot</b>, {message.from_user.first_name}!{via}\n"
            "Deal <i>ACME</i> · <u>1 200 €</u> · <tg-spoiler>secret margin</tg-spoiler>",
            parse_mode="HTML",
            reply_markup=deal_buttons(approved=False),
        )
        menu = ReplyKeyboardMarkup(
            keyboard=[
                [KeyboardButton(text="📋 Deals"), KeyboardButton(text="➕ New deal")],
                [KeyboardButton(text="📱 Share phone", request_contact=True)],
            ],
            resize_keyboard=True,
            is_persistent=True,
        )
        await message.answer("مرحبا بك في كانبوت — اختر من القائمة 👇", reply_markup=menu)

    @dp.callback_query(F.data == "approve")
    async def approve(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text(
            "Deal <b>ACME</b> approved ✅", parse_mode="HTML", reply_markup=deal_buttons(approved=True)
        )
        await query.answer("Approved!")

    @dp.message(F.text == "📋 Deals")
    async def deals(message: Message) -> None:
        await message.answer_photo(BufferedInputFile(CHART, "pipeline.png"), caption="Pipeline this week")

    @dp.message(F.text == "➕ New deal")
    async def new_deal(message: Message) -> None:
        note = await message.answer("temporary note")
        await note.delete()
        await message.answer_document(
            BufferedInputFile(b"name;amount\nACME;1200\n", "deals.csv"), caption="Export"
        )

    return dp


async def test_a_user_chats_with_a_real_bot_in_the_browser(
    emulator: Emulator, tg: Telegram, aiogram_bot: Bot, browser: Any, artifacts: Path
) -> None:
    await tg.user(ANN, "Ann", username="ann")
    page = await browser.new_page(viewport={"width": 1280, "height": 860})
    page.set_default_timeout(10_000)
    async with polling(emulator, demo_bot(), aiogram_bot):
        await page.goto(emulator.url)
        await page.wait_for_selector("#user-select option[value='1001']", state="attached")
        await page.fill("#text", "/start")
        await page.press("#text", "Enter")
        welcome = page.locator(".message-row.from-bot", has_text="Welcome to Kanbot")
        await welcome.wait_for()
        assert await welcome.locator("b").inner_text() == "Kanbot"
        assert await welcome.locator(".spoiler").count() == 1

        arabic = page.locator(".message-row.from-bot .text", has_text="مرحبا")
        await arabic.wait_for()
        assert await arabic.get_attribute("dir") == "auto"
        assert await arabic.evaluate("node => getComputedStyle(node).direction") == "rtl"
        await page.locator(".reply-button", has_text="📋 Deals").wait_for()

        await welcome.locator(".inline-button", has_text="Approve deal").click()
        await page.locator(".message-row.from-bot", has_text="approved ✅").wait_for()
        await page.locator("#toast", has_text="Approved!").wait_for()
        assert await page.locator(".message-row", has_text="Welcome to Kanbot").count() == 0

        await page.locator(".reply-button", has_text="📋 Deals").click()
        photo = page.locator(".message-row.from-bot img.photo")
        await photo.wait_for()
        await page.wait_for_function("() => document.querySelector('img.photo').naturalWidth === 480")

        await page.locator(".reply-button", has_text="➕ New deal").click()
        await page.locator(".document-name", has_text="deals.csv").wait_for()
        await tg.wait()
        assert await page.locator(".message-row", has_text="temporary note").count() == 0

        page.once("dialog", lambda dialog: dialog.dismiss())  # not expected: the page uses its own <dialog>
        await page.locator(".reply-button", has_text="Share phone").click()
        await page.fill("#dialog-body input[name=phone]", "+1 555 0100")
        await page.click("#dialog-ok")
        await page.locator(".message-row.from-user .contact", has_text="+1 555 0100").wait_for()

        await page.locator(".inline-button", has_text="Invite").first.click()
        await page.locator(".message-row.from-bot", has_text="via ref42").wait_for()
        await tg.wait()
        await page.wait_for_timeout(800)  # one more poll, so the screenshot shows the settled chat
        await page.screenshot(path=str(artifacts / "emulator-desktop.png"))

        await page.set_viewport_size({"width": 390, "height": 844})
        await page.wait_for_timeout(200)
        await page.screenshot(path=str(artifacts / "emulator-phone.png"))
        await page.click("#panels-toggle")
        await page.locator("#emulator-panel").wait_for()
        await page.screenshot(path=str(artifacts / "emulator-phone-panels.png"))
    messages = await tg.messages(ANN)
    assert [m["text"] for m in messages if m["from"] == "user"] == [
        "/start",
        "📋 Deals",
        "➕ New deal",
        "",
        "/start ref42",
    ]
    assert [m["contact"]["phone_number"] for m in messages if m["contact"]] == ["+1 555 0100"]


async def test_the_page_keeps_only_telegrams_tags_when_rendering_html(
    emulator: Emulator, browser: Any
) -> None:
    page = await browser.new_page()
    await page.goto(f"{emulator.url}/static/api.js")  # any page of the emulator's origin
    html = await page.evaluate(
        """async () => {
            const { sanitize } = await import('/static/render.js');
            const box = document.createElement('div');
            box.appendChild(sanitize('<img src=x onerror="window.pwned=1"><b>ok</b>'
                + '<a href="javascript:alert(1)">js</a><script>window.pwned=2</script><i>fine</i>'));
            return box.innerHTML;
        }"""
    )
    assert html == "<b>ok</b><a>js</a><i>fine</i>"
    assert await page.evaluate("() => window.pwned") is None


EXTENSION_JS = """
export default function setup(page) {
  const panel = page.addPanel("Mini App");
  panel.textContent = "extension loaded";
  page.setWebAppHandler((url, context) => { window.openedWebApp = { url, button: context.button.text }; });
}
"""


async def test_a_page_extension_adds_a_panel_and_takes_over_web_app_buttons(browser: Any) -> None:
    async def extension(request: web.Request) -> web.Response:
        return web.Response(text=EXTENSION_JS, content_type="text/javascript")

    routes = [web.get("/miniapp/extension.js", extension)]
    async with (
        Emulator(extra_routes=routes, page_extensions=["/miniapp/extension.js"]) as emulator,
        aiohttp.ClientSession() as http,
    ):
        tg = Telegram(emulator.url, http)
        await tg.user(ANN, "Ann")
        markup = {"inline_keyboard": [[{"text": "Open CRM", "web_app": {"url": "https://example.com/app"}}]]}
        await tg.ok("sendMessage", chat_id=ANN, text="Your CRM", reply_markup=markup)
        page = await browser.new_page()
        page.set_default_timeout(10_000)
        await page.goto(emulator.url)
        await page.locator(".panel", has_text="extension loaded").wait_for(state="attached")
        await page.locator(".inline-button", has_text="Open CRM").click()
        opened = await page.wait_for_function("() => window.openedWebApp")
        assert await opened.json_value() == {"url": "https://example.com/app", "button": "Open CRM"}
