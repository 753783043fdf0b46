"""A process imports the chat framework it runs on and no other: aiogram alone is ~120 MiB resident.

Checked in fresh interpreters (this one has imported everything already), and in a real
``kanbot run`` on its default runtime (python-telegram-bot), whose every import Python reports
(PYTHONPROFILEIMPORTTIME): it
answers and sends the boss the digest with its chart without importing aiogram, the CLI framework or the
migrations, nor loading matplotlib (the chart is drawn by the chart worker, a process of its own).
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from crm_core.services import Crm
from kanbot.cli import launch
from telegram_emulator import Emulator
from tests.e2e.harness import ALI, BOSS, EmulatedChat
from tests.ops.support import KanbotProcess, base_env

TOKEN = "123456:TEST-token_for-imports"
FRAMEWORKS = ("aiogram", "telegram")


def imported_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has imported after running ``code``."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_the_cli_and_the_process_import_no_chat_framework_and_nothing_only_some_commands_need() -> None:
    modules = imported_after("import kanbot.cli, kanbot.process, kanbot.runtimes, kanbot.embed")
    assert modules.isdisjoint({*FRAMEWORKS, "matplotlib", "yaml"}), sorted(modules)


def test_a_plain_kanbot_run_imports_neither_the_cli_framework_nor_the_migrations() -> None:
    modules = imported_after("from kanbot.cli import launch\nimport kanbot.process, kanbot.runtimes")
    assert modules.isdisjoint({"typer", "click", "alembic"}), sorted(modules)


@pytest.mark.parametrize(
    ("argv", "plain"),
    [
        (["run"], (True, None)),
        (["run", "--runtime", "ptb"], (True, "ptb")),
        (["run", "--runtime=aiogram"], (True, "aiogram")),
        (["run", "--help"], (False, None)),
        (["deal", "list"], (False, None)),
        ([], (False, None)),
    ],
)
def test_only_a_plain_run_skips_the_cli_framework(argv: list[str], plain: tuple[bool, str | None]) -> None:
    assert launch.plain_run(argv) == plain


@pytest.mark.parametrize(
    ("runtime", "imports", "leaves"), [("ptb", "telegram", "aiogram"), ("aiogram", "aiogram", "telegram")]
)
def test_a_runtime_imports_its_own_framework_and_not_the_other(
    runtime: str, imports: str, leaves: str
) -> None:
    modules = imported_after(
        f"from kanbot.runtimes import make_runtime\nmake_runtime({runtime!r}, {TOKEN!r}, None).mount"
    )
    assert imports in modules
    assert leaves not in modules


def test_the_default_runtime_is_python_telegram_bot_and_imports_no_aiogram() -> None:
    modules = imported_after(
        "from bot.settings import TelegramSettings\nfrom kanbot.runtimes import make_runtime\n"
        f"make_runtime(TelegramSettings(_env_file=None).runtime, {TOKEN!r}, None, max_updates=16).mount"
    )
    assert "telegram" in modules
    assert "aiogram" not in modules


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # imports do not depend on it
async def test_kanbot_run_answers_and_charts_a_digest_without_importing_aiogram_typer_alembic_or_matplotlib(
    database_url: str, emulator: Emulator, crm: Crm, tmp_path: Path
) -> None:
    await crm.users.ensure_boss(telegram_id=BOSS, name="Olga")
    env = base_env(database_url, emulator.url, PYTHONPROFILEIMPORTTIME="1")  # the default runtime
    process = KanbotProcess("run-ptb", ["run"], env, tmp_path).start()
    try:
        await process.wait_ready()
        async with aiohttp.ClientSession() as http:
            chat = EmulatedChat(emulator.url, http)
            await chat.user(ALI, "Ali")
            await chat.send(ALI, "/deals", wait=False)

            async def answered() -> bool:
                return bool(await chat.bot_messages(ALI))

            await chat.wait_until(answered, timeout_s=30, what="an answer to /deals")
            await chat.user(BOSS, "Olga")
            await chat.send(BOSS, "/digest", wait=False)

            async def charted() -> bool:
                return any(message.photo for message in await chat.bot_messages(BOSS))

            await chat.wait_until(charted, timeout_s=120, what="the digest's chart")
            assert process.proc is not None
            # the chart worker shares the log (and the import profile): the bot's own memory map tells
            maps = await asyncio.to_thread(Path(f"/proc/{process.proc.pid}/maps").read_text)
            assert "matplotlib" not in maps, "matplotlib's extensions are loaded in the bot itself"
    finally:
        await process.stop()
    output = process.output()
    assert re.search(r"\| +telegram\.ext$", output, re.MULTILINE), "the import profile is missing"
    for absent in ("aiogram", "typer", "alembic"):  # nor in the chart worker
        assert not re.search(rf"\| +{absent}(\.|$)", output, re.MULTILINE), absent
