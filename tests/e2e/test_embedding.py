"""The two embedding examples of docs/embedding.md, run as documented: the host's /ping keeps working
beside Kanbot, whose commands, buttons and flows work inside the host bot."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import ALI, BOSS, EmulatedChat, seeded_crm

pytestmark = pytest.mark.slow  # the host bot runs as a process of its own

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
HOST_TOKEN = "800001:HOST-bot-token"
STARTUP_S = 180.0


@pytest.fixture(params=["host_aiogram.py", "host_ptb.py"])
async def host_bot(
    request: pytest.FixtureRequest, database_url: str, emulator: Emulator, tmp_path: Path
) -> AsyncIterator[Crm]:
    """The example host bot running as its own process, with Kanbot inside, against the emulator."""
    async with seeded_crm(database_url) as crm:
        env = {
            **os.environ,
            "BOT_TOKEN": HOST_TOKEN,
            "TELEGRAM_API_URL": emulator.url,
            "KANBOT_DATABASE_URL": database_url,
            "PYTHONPATH": str(EXAMPLES.parents[1]),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLES / request.param),
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            await polling(emulator, process)
            yield crm
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
            try:
                raw, _ = await asyncio.wait_for(process.communicate(), timeout=20)
            except TimeoutError:
                process.kill()
                raw, _ = await process.communicate()
            output = raw.decode(errors="replace")
            assert process.returncode in (0, -signal.SIGINT), output
            # The libraries log transient network errors with tracebacks; none may come from Kanbot's code.
            assert "/kanbot/" not in output and "/bot/core/" not in output, output


async def polling(emulator: Emulator, process: asyncio.subprocess.Process) -> None:
    """Until the host bot (a fresh process importing its libraries: slow on a busy machine) is taking
    updates."""
    deadline = time.monotonic() + STARTUP_S
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            assert process.returncode is None, "the host bot exited before polling"
            async with http.get(f"{emulator.url}/emulator/log") as response:
                log = await response.json()
            if any(entry.get("method") == "getUpdates" for entry in log):
                return
            await asyncio.sleep(0.1)
    raise AssertionError(f"the host bot did not start polling within {STARTUP_S:.0f} s")


@pytest.fixture
async def chat(host_bot: Crm, emulator: Emulator) -> AsyncIterator[EmulatedChat]:
    async with aiohttp.ClientSession() as session:
        users = EmulatedChat(emulator.url, session)
        await users.user(BOSS, "Olga")
        await users.user(ALI, "Ali")
        yield users


async def shown(chat: EmulatedChat, user_id: int) -> list[tuple[int, str, str]]:
    """What the bot shows ``user_id``: each message's id, text and buttons (an edit changes them)."""
    return [(m.message_id, m.text, str(m.buttons)) for m in await chat.bot_messages(user_id)]


async def answered(chat: EmulatedChat, user_id: int, act: Callable[[], Awaitable[object]]) -> None:
    """Do ``act`` and wait for the bot's answer in the chat (a new message or an edit), however long the
    host process takes: it runs apart from the test, so no quiet moment says it is done."""
    before = await shown(chat, user_id)
    outcome = await act()

    async def changed() -> bool:
        if isinstance(outcome, str) and await chat.answer(outcome) is None:  # a press: answered too
            return False
        return await shown(chat, user_id) != before

    await chat.wait_until(changed, timeout_s=60, what=f"the bot's answer to {user_id}")


async def send(chat: EmulatedChat, user_id: int, text: str) -> None:
    await answered(chat, user_id, lambda: chat.send(user_id, text, wait=False))


async def click(chat: EmulatedChat, user_id: int, label: str) -> None:
    await answered(chat, user_id, lambda: chat.click(user_id, label, wait=False))


async def test_the_hosts_own_command_keeps_working_beside_kanbot(chat: EmulatedChat) -> None:
    await send(chat, ALI, "/ping")
    replies = [m.text for m in await chat.bot_messages(ALI)]
    assert replies == ["pong"]


async def test_kanbot_answers_its_commands_buttons_and_flows_inside_the_host_bot(
    chat: EmulatedChat, host_bot: Crm
) -> None:
    await send(chat, ALI, "/start")
    assert "Hi, Ali" in (await chat.last(ALI)).text
    await send(chat, ALI, "/new Globex: PBX upgrade")
    await click(chat, ALI, "Skip")
    await click(chat, ALI, "Skip")
    await click(chat, ALI, "Skip")
    await click(chat, ALI, "Create")
    await click(chat, ALI, "Opportunity ▶")
    card = await chat.last(ALI)
    assert "Globex: PBX upgrade" in card.text and "Opportunity" in card.text
    ali = await host_bot.users.identify(ALI)
    [deal] = await host_bot.deals.list_deals(actor=ali)
    assert deal.stage.name == "Opportunity"


@pytest.mark.parametrize("example", ["host_aiogram.py", "host_ptb.py"])
def test_the_documented_example_is_the_program_these_tests_run(example: str) -> None:
    documentation = (EXAMPLES.parent / "embedding.md").read_text(encoding="utf-8")
    assert (EXAMPLES / example).read_text(encoding="utf-8").rstrip() in documentation
