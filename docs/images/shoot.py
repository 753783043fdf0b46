"""Screenshots of Kanbot on a phone, in English, Russian and Arabic, for the docs and for looking at.

Starts the offline demo, acts through the Telegram emulator's control API as its people — Tom (English),
Maria (Russian) and Ali (Arabic), sellers; Olga the boss, switched to each language with /lang — and
takes headless Chromium screenshots of the emulator's page at 390×844 into docs/images/:

    card-<lang>.png  deals-<lang>.png  tasks-<lang>.png  morning-<lang>.png  missed-call-<lang>.png
    remind-kinds-<lang>.png  remind-when-<lang>.png  remind-done-<lang>.png (Remind on a card)
    report-<lang>.png  digest-<lang>.png  board-<lang>.png  board-sheet-<lang>.png
    settings-<lang>.png (a seller's time zone picker)  team-seller-<lang>.png (a seller's page in /team)

Run it from the repository with the development tools installed (Playwright drives the system's
Chromium): `make screenshots`, or `.venv/bin/python docs/images/shoot.py [--only ru] [--out DIR]`.
The demo's data is seeded but placed relative to now, so times and ages differ from run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
OLGA = 1001
DIRECTION_MARKS = "\u200e\u200f\u061c\u2066\u2067\u2068\u2069"


@dataclass(frozen=True)
class Seller:
    telegram_id: int
    name: str
    extension: str


SELLERS = {
    "en": Seller(2003, "Tom", "103"),
    "ru": Seller(2002, "Maria", "102"),
    "ar": Seller(2001, "Ali", "101"),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def demo() -> Iterator[str]:
    """The offline demo on free ports, a fresh database; yields the emulator's address."""
    port, http_port = free_port(), free_port()
    data = tempfile.mkdtemp(prefix="kanbot-shots-")
    kanbot = Path(sys.executable).with_name("kanbot")
    command = [str(kanbot), "demo", "--port", str(port), "--http-port", str(http_port), "--data-dir", data]
    process = subprocess.Popen(  # noqa: S603 (our own kanbot, beside this Python)
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        print("  demo:", line.rstrip()) if "http://" in line else None
        if "open http://" in line:
            break
    else:
        raise SystemExit("the demo stopped before it was ready")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


class Emulator:
    """The emulator's control API: act as a user, wait until the bot is done answering."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1: our own demo)
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            raw = response.read()
        return json.loads(raw) if raw else None

    def settle(self) -> None:
        self.call("POST", "/emulator/wait", {"quiet_ms": 700, "timeout_ms": 20_000})

    def send(self, user: int, text: str) -> None:
        self.call("POST", "/emulator/messages", {"user_id": user, "text": text})
        self.settle()

    def messages(self, user: int) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/emulator/chats/{user}/messages"))

    def last_bot_message(self, user: int, *, button: str = "", text: str = "") -> dict[str, Any]:
        """The bot's newest message (with a button holding ``button``, a text starting with ``text``):
        a notice the bot sends on its own, as a task falls due, may come between an action and its answer.
        Waits up to a minute for it: on a busy machine the answer may come after a quiet moment."""
        deadline = time.monotonic() + 60
        while (found := self._last_bot_message(user, button=button, text=text)) is None:
            if time.monotonic() > deadline:
                raise SystemExit(f"no such message from the bot in {user}'s chat: {button or text}")
            time.sleep(0.2)
        return found

    def _last_bot_message(self, user: int, *, button: str, text: str) -> dict[str, Any] | None:
        for message in reversed(self.messages(user)):
            if message.get("from") != "bot" or message.get("deleted"):
                continue
            if button and not any(button in label for row in buttons(message) for label in row):
                continue
            if (message.get("text") or "").lstrip(DIRECTION_MARKS).startswith(text):
                return message
        return None

    def message_after(self, user: int, message_id: int, *, photo: bool = False) -> dict[str, Any]:
        """The first message (``photo``: photo) the bot sends after ``message_id``: a chart comes a moment
        after its text, a call's notice through Kanbot's outbox."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for message in self.messages(user):
                later = message["message_id"] > message_id and message.get("from") == "bot"
                if later and (message.get("photo") or not photo):
                    return message
            time.sleep(0.25)
        raise SystemExit(f"no new message from the bot in {user}'s chat")

    def click(self, user: int, message: dict[str, Any], label: str) -> None:
        self.call(
            "POST",
            "/emulator/clicks",
            {"user_id": user, "message_id": message["message_id"], "button": label},
        )
        self.settle()

    def call_in(self, seller: Seller) -> None:
        """A new customer's missed call to ``seller``, through the demo's PBX panel."""
        number = self.call("GET", "/demo/config")["new_number"]
        result = self.call(
            "POST", "/demo/calls", {"kind": "missed", "caller": number, "extension": seller.extension}
        )
        print("  call:", result.get("message"))
        self.settle()


def buttons(message: dict[str, Any]) -> list[list[str]]:
    return [[b["text"] for b in row] for row in message.get("buttons") or []]


def button_with(message: dict[str, Any], part: str) -> str:
    """The label of the message's first button that contains ``part``."""
    return next(label for row in buttons(message) for label in row if part in label)


def first_deal_button(message: dict[str, Any]) -> str:
    """The first button of a deal list that opens a deal titled in words (not a new caller's number, not
    paging or filters): the card shows the seller's language."""
    for row in buttons(message):
        for label in row:
            title = re.sub(r"^\W+", "", label)
            if re.match(r"[^\W\d_]{3}", title) and not re.match(r"^[◀▶⬅➡«»‹›]", label):
                return label
    raise SystemExit("the list has no deal to open")


class Camera:
    def __init__(self, browser: Any, base: str, out: Path) -> None:
        self.browser, self.base, self.out = browser, base, out

    async def chat(self, user: int, name: str, message_id: int | None, *, align: str = "auto") -> None:
        """The chat page as ``user``, scrolled to show message ``message_id`` (its start when it is long)."""
        context = await self.browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        page = await context.new_page()
        await page.goto(self.base + "/")
        await page.wait_for_selector(f"#user-select option[value='{user}']", state="attached")
        await page.select_option("#user-select", str(user))
        if message_id is not None:
            row = page.locator(f".message-row[data-message-id='{message_id}']")
            await row.wait_for()
            await page.evaluate(
                """async () => {
                    await document.fonts.ready;
                    // every photo loaded before scrolling: a lazy one loading later shifts the chat
                    const images = [...document.querySelectorAll('.message-row img')];
                    for (const image of images) image.loading = 'eager';
                    await Promise.all(images.map((image) => image.decode().catch(() => null)));
                }"""
            )
            # Scroll to the message until it stays put: the page may still scroll itself to the
            # bottom as photos load.
            await row.evaluate(
                """(row, align) => new Promise((done) => {
                    const box = row.parentElement;
                    const tall = row.offsetHeight > box.clientHeight - 40;
                    const block = align === 'auto' ? (tall ? 'start' : 'end') : align;
                    let tries = 0, last = null;
                    const settle = () => {
                        row.scrollIntoView({block});
                        const now = box.scrollTop;
                        if (now === last || ++tries > 20) return done();
                        last = now;
                        setTimeout(settle, 150);
                    };
                    settle();
                })""",
                align,
            )
        await page.screenshot(path=str(self.out / name))
        print("  wrote", name)
        await context.close()

    async def board(self, user: int, lang: str, open_card: bool) -> None:
        """The Mini App from the chat's menu button; then a card's sheet."""
        context = await self.browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        page = await context.new_page()
        await page.goto(self.base + "/")
        await page.wait_for_selector(f"#user-select option[value='{user}']", state="attached")
        await page.select_option("#user-select", str(user))
        await page.locator("#menu-button").click()
        frame = page.frame_locator(".miniapp-frame")
        cards = frame.locator(".column").nth(1).locator(".card")
        await cards.first.wait_for()
        await page.locator(".miniapp.ready").wait_for(state="attached")
        await frame.locator("#toast").wait_for(state="hidden", timeout=10_000)  # the first visit's hint
        await frame.locator(".column").nth(1).evaluate("node => node.scrollIntoView({inline: 'start'})")
        await frame.locator("body").evaluate(
            """body => new Promise((done) => {
                const board = body.querySelector('#board');
                let last = -1;
                const check = () => {
                    if (board.scrollLeft === last) return done();
                    last = board.scrollLeft;
                    setTimeout(check, 80);
                };
                check();
            })"""
        )
        await page.screenshot(path=str(self.out / f"board-{lang}.png"))
        print(f"  wrote board-{lang}.png")
        if open_card:
            await cards.first.click()
            await frame.locator("#sheet .history li").first.wait_for()
            await frame.locator("#sheet.open").evaluate(
                "node => Promise.all(node.getAnimations({subtree: true}).map((a) => a.finished))"
            )
            await page.screenshot(path=str(self.out / f"board-sheet-{lang}.png"))
            print(f"  wrote board-sheet-{lang}.png")
        await context.close()


REMIND_WORDS = {"en": "about the invoice", "ru": "про счёт", "ar": "بخصوص الفاتورة"}


async def remind_flow(tg: Emulator, camera: Camera, seller: Seller, lang: str, card: dict[str, Any]) -> None:
    """Remind on the card: what it is about, then when (with a few words), then the card again."""
    sys.path.insert(0, str(ROOT))
    from bot.core.i18n import Tr

    user, shown = seller.telegram_id, card["message_id"]
    tg.click(user, card, button_with(card, "⏰"))
    kinds = tg.last_bot_message(user, button="📞")
    await camera.chat(user, f"remind-kinds-{lang}.png", shown)
    tg.click(user, kinds, button_with(kinds, "📞"))
    when = tg.last_bot_message(user, button="✏️")
    tg.click(user, when, button_with(when, "✏️"))
    tg.send(user, REMIND_WORDS[lang])
    next_monday = Tr(lang).label("Next Monday")
    when = tg.last_bot_message(user, button=next_monday)
    await camera.chat(user, f"remind-when-{lang}.png", shown)
    tg.click(user, when, next_monday)
    await camera.chat(user, f"remind-done-{lang}.png", shown)


async def shoot(base: str, langs: list[str], out: Path) -> None:
    from playwright.async_api import async_playwright

    tg = Emulator(base)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        camera = Camera(browser, base, out)
        for lang in langs:
            seller = SELLERS[lang]
            print(f"{lang}: {seller.name} and Olga")
            tg.send(seller.telegram_id, "/deals")
            deals = tg.last_bot_message(seller.telegram_id, text="📋")
            await camera.chat(seller.telegram_id, f"deals-{lang}.png", deals["message_id"])
            tg.click(seller.telegram_id, deals, first_deal_button(deals))
            card = tg.last_bot_message(seller.telegram_id, button="⋯")
            await camera.chat(seller.telegram_id, f"card-{lang}.png", card["message_id"])
            await remind_flow(tg, camera, seller, lang, card)
            tg.send(seller.telegram_id, "/tasks")
            tasks = tg.last_bot_message(seller.telegram_id, text="🗓")
            await camera.chat(seller.telegram_id, f"tasks-{lang}.png", tasks["message_id"])
            tg.send(seller.telegram_id, "/morning")
            plan = tg.last_bot_message(seller.telegram_id, text="☀️")
            await camera.chat(seller.telegram_id, f"morning-{lang}.png", plan["message_id"], align="start")
            before = tg.last_bot_message(seller.telegram_id)["message_id"]
            tg.call_in(seller)
            missed = tg.message_after(seller.telegram_id, before)
            await camera.chat(seller.telegram_id, f"missed-call-{lang}.png", missed["message_id"])
            await camera.board(seller.telegram_id, lang, open_card=True)
            tg.send(seller.telegram_id, "/settings")
            settings = tg.last_bot_message(seller.telegram_id, button="🕒")
            tg.click(seller.telegram_id, settings, button_with(settings, "🕒"))
            await camera.chat(seller.telegram_id, f"settings-{lang}.png", settings["message_id"])
            tg.send(seller.telegram_id, "/cancel")

            tg.send(OLGA, f"/lang {lang}")
            tg.send(OLGA, "/report")
            report = tg.last_bot_message(OLGA)
            await camera.chat(OLGA, f"report-{lang}.png", report["message_id"], align="start")
            before = tg.last_bot_message(OLGA)["message_id"]
            tg.send(OLGA, "/digest")
            chart = tg.message_after(OLGA, before, photo=True)
            await camera.chat(OLGA, f"digest-{lang}.png", chart["message_id"], align="end")
            tg.send(OLGA, "/team")
            team = tg.last_bot_message(OLGA, text="👥")
            tg.click(OLGA, team, button_with(team, seller.name))
            await camera.chat(OLGA, f"team-seller-{lang}.png", team["message_id"], align="start")
        tg.send(OLGA, "/lang en")
        await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(SELLERS), action="append", help="one language (repeatable)")
    parser.add_argument("--out", type=Path, default=OUT, help="where the PNGs go (default: docs/images)")
    parser.add_argument("--base", help="a demo already running, as http://127.0.0.1:8081 (else one starts)")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"{CHROMIUM} not found: apt-get install -y chromium fonts-noto-color-emoji")
    args.out.mkdir(parents=True, exist_ok=True)
    langs = args.only or ["en", "ru", "ar"]
    if args.base:
        asyncio.run(shoot(args.base.rstrip("/"), langs, args.out))
        return
    with demo() as base:
        asyncio.run(shoot(base, langs, args.out))


if __name__ == "__main__":
    main()
