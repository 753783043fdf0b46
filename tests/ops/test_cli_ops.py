"""The operator's commands: `kanbot doctor`, `webhook set|info|delete`, `db backup|restore`; the logs."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import sqlite3
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from bot.settings import NO_WEBHOOK_SECRET
from crm_core.adapters.database import Database
from crm_core.services import Crm
from kanbot.cli import app
from kanbot.logs import redact
from telegram_emulator import Emulator
from tests.e2e.harness import ALI, BOT_ID, CALLS_SECRET, TOKEN, call_body, seeded_crm, signed_call
from tests.ops.support import SECRET, KanbotProcess, base_env, schema_behind
from tests.support.databases import POSTGRES_ONLY, SQLITE_ONLY
from tests.support.network import free_port

HOOK = "http://127.0.0.1:9/telegram/webhook"  # nothing listens there: Telegram's deliveries fail


@pytest.fixture
def emulator_url() -> Iterator[str]:
    """The emulator on an event loop of its own, so that the CLI can run its own ``asyncio.run``."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> Emulator:
        emulator = Emulator(port=0)
        await emulator.start()
        return emulator

    emulator = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=30)
    yield emulator.url
    asyncio.run_coroutine_threadsafe(emulator.stop(), loop).result(timeout=30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


@pytest.fixture
def kanbot(database_url: str, emulator_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``kanbot ...`` in this process, with a working set of settings (each call may override some)."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in [n for n in __import__("os").environ if n.startswith("KANBOT_")]:
        monkeypatch.delenv(name)
    base = {
        "KANBOT_DATABASE_URL": database_url,
        "KANBOT_BOT_TOKEN": TOKEN,
        "KANBOT_TELEGRAM_API_URL": emulator_url,
    }
    runner = CliRunner()

    def call(*args: str, **env: str) -> Result:
        return runner.invoke(app, list(args), env=base | env)

    return call


def control(emulator_url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - the local emulator
        emulator_url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def checks(result: Result) -> list[str]:
    """The doctor's verdict lines: '✓ name', '✗ name', '· name'."""
    return [line.split(":")[0] for line in result.stdout.splitlines() if line[:1] in "✓✗·"]


# -- kanbot doctor ---------------------------------------------------------------------------------


def test_doctor_passes_on_a_good_setup_against_the_emulator(kanbot: Any) -> None:
    result = kanbot("doctor")
    assert result.exit_code == 0, result.stdout
    assert not [verdict for verdict in checks(result) if verdict.startswith("✗")], result.stdout
    assert "✓ settings: read and valid" in result.stdout
    assert "reachable, schema up to date" in result.stdout
    assert "✓ telegram: the token works: @emulator_700001_bot" in result.stdout
    assert "✓ webhook: long polling" in result.stdout
    assert "✓ clock" in result.stdout and "· asterisk: not configured" in result.stdout
    assert result.stdout.rstrip().endswith("All checks passed.")


@pytest.mark.parametrize(
    ("setting", "value", "problem"),
    [
        ("KANBOT_DEFAULT_REGION", "XYZ", "Invalid setting KANBOT_DEFAULT_REGION: must be a two-letter"),
        ("KANBOT_WEBHOOK_SECRET", "not a secret!", "Invalid setting KANBOT_WEBHOOK_SECRET: must be 16-256"),
        ("KANBOT_WEBHOOK_SECRET", "s3cret", "Invalid setting KANBOT_WEBHOOK_SECRET: is 6 characters long"),
        ("KANBOT_CALLS_SECRET", "Zq", "Invalid setting KANBOT_CALLS_SECRET: is 2 characters long"),
        ("KANBOT_AMI_SECRET", "amp111", "Invalid setting KANBOT_AMI_SECRET: is 6 characters long"),
        (
            "KANBOT_WORKING_HOURS",
            "19:00-09:00",
            "Invalid setting KANBOT_WORKING_HOURS: the end must be after",
        ),
        ("KANBOT_TICK_SECONDS", "0", "Invalid setting KANBOT_TICK_SECONDS"),
    ],
)
def test_doctor_names_a_broken_setting_and_its_fix_and_exits_1(
    kanbot: Any, setting: str, value: str, problem: str
) -> None:
    result = kanbot("doctor", **{setting: value})
    assert result.exit_code == 1
    bad = [line for line in result.stdout.splitlines() if line.startswith("✗")]
    assert len(bad) == 1 and problem in bad[0], result.stdout
    fix = result.stdout.splitlines()[result.stdout.splitlines().index(bad[0]) + 1]
    assert fix.strip().startswith("→ fix it in .env or the environment"), result.stdout
    assert value not in result.stdout or value == "0"  # a bad secret is not echoed back
    assert "1 problem(s) found." in result.stdout


def test_doctor_says_whether_zadarmas_notifications_are_limited_to_its_addresses(kanbot: Any) -> None:
    open_to_all = kanbot("doctor", KANBOT_ZADARMA_SECRET="zadarma-api-secret-for-the-doctor")
    assert "· zadarma: KANBOT_ZADARMA_ALLOWED_IPS is not set" in open_to_all.stdout
    limited = kanbot(
        "doctor",
        KANBOT_ZADARMA_SECRET="zadarma-api-secret-for-the-doctor",
        KANBOT_ZADARMA_ALLOWED_IPS="185.45.152.42",
    )
    assert "✓ zadarma: notifications accepted from 185.45.152.42/32 only" in limited.stdout
    assert "zadarma" not in kanbot("doctor").stdout  # not configured: nothing to say


def test_doctor_names_every_weak_secret_at_once(kanbot: Any) -> None:
    weak = {
        "KANBOT_CALLS_SECRET": "Qz",
        "KANBOT_TWILIO_AUTH_TOKEN": "t0k3n",
        "KANBOT_ZADARMA_SECRET": "zd-s3cr3t",
        "KANBOT_MANGO_API_KEY": "m4ng0",
        "KANBOT_MANGO_API_SALT": "s4lt",
    }
    result = kanbot("doctor", **weak)
    assert result.exit_code == 1
    bad = [line for line in result.stdout.splitlines() if line.startswith("✗")]
    assert sorted(line.split(":")[1].removeprefix(" Invalid setting ") for line in bad) == sorted(weak)
    assert not any(value in result.stdout for value in weak.values())
    assert "5 problem(s) found." in result.stdout


def test_doctor_flags_a_webhook_url_without_its_secret(kanbot: Any) -> None:
    result = kanbot("doctor", KANBOT_WEBHOOK_URL=HOOK)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    [bad] = [
        n for n, line in enumerate(lines) if line.startswith("✗ webhook: KANBOT_WEBHOOK_URL is set without")
    ]
    assert "anyone could post updates as any user" in lines[bad]
    assert lines[bad + 1].strip().startswith("→ set KANBOT_WEBHOOK_SECRET to 16-256 characters")


def test_doctor_reports_an_unreachable_database_with_what_to_check(kanbot: Any) -> None:
    result = kanbot("doctor", KANBOT_DATABASE_URL="postgresql+asyncpg://kanbot:pw@127.0.0.1:9/kanbot")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    [bad] = [n for n, line in enumerate(lines) if line.startswith("✗ database: cannot connect")]
    assert lines[bad + 1].strip() == "→ check KANBOT_DATABASE_URL and that the database server is running"
    assert "pw" not in result.stdout.replace("problem", "")  # the password stays out
    assert "✓ telegram" in result.stdout  # the other checks still ran


def test_doctor_reports_pending_migrations_and_a_webhook_telegram_does_not_know(
    kanbot: Any, database_url: str
) -> None:
    async def doctor_on_an_old_schema() -> Result:
        async with schema_behind(database_url):
            return await asyncio.to_thread(
                kanbot, "doctor", KANBOT_WEBHOOK_URL=HOOK, KANBOT_WEBHOOK_SECRET=SECRET
            )

    result = asyncio.run(doctor_on_an_old_schema())
    assert result.exit_code == 1
    assert "✗ database: the schema is behind the code\n    → run `kanbot db upgrade`" in result.stdout
    webhook = f"✗ webhook: Telegram posts to nowhere but KANBOT_WEBHOOK_URL is {HOOK}"
    assert webhook + "\n    → run `kanbot webhook set`" in result.stdout
    assert "2 problem(s) found." in result.stdout


# -- webhook mode needs its secret ------------------------------------------------------------------


@pytest.mark.parametrize("runtime", ["aiogram", "ptb"])
@pytest.mark.parametrize("command", [("run",), ("serve", "--web"), ("serve", "--worker")], ids=" ".join)
def test_webhook_mode_without_its_secret_does_not_start_and_says_why_in_one_sentence(
    kanbot: Any, tmp_path: Path, runtime: str, command: tuple[str, ...]
) -> None:
    """A database that is not set up: before the fix, these got as far as saying so."""
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    result = kanbot(*command, KANBOT_WEBHOOK_URL=HOOK, KANBOT_RUNTIME=runtime, KANBOT_DATABASE_URL=empty)
    assert result.exit_code == 1
    assert result.stderr.strip() == NO_WEBHOOK_SECRET
    assert result.stderr.strip().count(". ") == 0  # one sentence


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("KANBOT_WEBHOOK_SECRET", "s3cret"),
        ("KANBOT_CALLS_SECRET", "Zq"),
        ("KANBOT_TWILIO_AUTH_TOKEN", "0123456789abcdef"),
        ("KANBOT_ZADARMA_SECRET", "0123456789abcdef"),
        ("KANBOT_MANGO_API_SALT", "s4lt"),
        ("KANBOT_AMI_SECRET", "amp111"),
    ],
)
def test_a_too_short_secret_stops_kanbot_run_with_one_message_naming_it(
    kanbot: Any, tmp_path: Path, setting: str, value: str
) -> None:
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    result = kanbot("run", **{setting: value, "KANBOT_DATABASE_URL": empty})
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Invalid setting {setting}: ") and "at least" in line, line
    assert value not in line


# -- kanbot webhook set | info | delete --------------------------------------------------------------


def test_webhook_set_info_and_delete_against_the_emulator(kanbot: Any, emulator_url: str) -> None:
    info = kanbot("webhook", "info")
    assert info.exit_code == 0 and "url: (none: long polling)" in info.stdout

    refused = kanbot("webhook", "set")
    assert refused.exit_code == 1 and "KANBOT_WEBHOOK_URL is not set" in refused.stderr
    refused = kanbot("webhook", "set", KANBOT_WEBHOOK_URL=HOOK)
    assert refused.exit_code == 1 and refused.stderr.strip() == NO_WEBHOOK_SECRET

    done = kanbot("webhook", "set", KANBOT_WEBHOOK_URL=HOOK, KANBOT_WEBHOOK_SECRET=SECRET)
    assert done.exit_code == 0 and done.stdout.strip() == f"Webhook set to {HOOK}"
    [bot] = control(emulator_url, "/emulator/bots")
    assert (bot["id"], bot["webhook"]) == (BOT_ID, HOOK)

    control(emulator_url, "/emulator/users", {"id": ALI, "first_name": "Ali"})
    control(emulator_url, "/emulator/messages", {"user_id": ALI, "text": "/start"})
    as_json = json.loads(kanbot("webhook", "info", "--json").stdout)
    assert as_json["url"] == HOOK and as_json["pending_update_count"] == 1
    assert as_json["allowed_updates"] == ["message", "callback_query", "my_chat_member"]
    text = kanbot("webhook", "info").stdout
    assert f"url: {HOOK}" in text and "pending updates: 1" in text
    assert (
        "last error: Connection refused" in text or "last error" not in text
    )  # the emulator may not have tried yet
    assert SECRET not in text + json.dumps(as_json)  # what Telegram shows never includes the secret

    deleted = kanbot("webhook", "delete", "--drop-pending")
    assert deleted.exit_code == 0 and deleted.stdout.strip() == "Webhook deleted."
    [bot] = control(emulator_url, "/emulator/bots")
    assert bot["webhook"] is None and bot["pending_update_count"] == 0
    assert "url: (none: long polling)" in kanbot("webhook", "info").stdout


# -- kanbot db backup | restore ----------------------------------------------------------------------


def deal_titles(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT title FROM deals ORDER BY id")]


def add_deal(database_url: str, title: str) -> None:
    """A deal of Ali's, in a team seeded on first use."""

    async def add() -> None:
        db = Database(database_url)
        try:
            if await Crm(db).users.by_telegram_id(ALI) is None:
                async with seeded_crm(database_url):
                    pass
            crm = Crm(db)
            await crm.deals.create(actor=await crm.users.identify(ALI), title=title)
        finally:
            await db.dispose()

    asyncio.run(add())


def sqlite_file(database_url: str) -> Path:
    return Path(database_url.split("///", 1)[1])


# Restore is for SQLite files; PostgreSQL uses pg_dump/pg_restore (tested below).
@SQLITE_ONLY
def test_db_backup_then_restore_round_trips_a_sqlite_database(
    kanbot: Any, database_url: str, tmp_path: Path
) -> None:
    live = sqlite_file(database_url)
    add_deal(database_url, "Kept by the backup")
    backup = tmp_path / "backups" / "kanbot-backup.db"
    made = kanbot("db", "backup", str(backup))
    assert made.exit_code == 0, made.stdout + made.stderr
    assert made.stdout.startswith(f"Backed up {live} to {backup}")
    add_deal(database_url, "Made after the backup")
    assert deal_titles(live) == ["Kept by the backup", "Made after the backup"]

    restored = kanbot("db", "restore", str(backup), "--yes")
    assert restored.exit_code == 0, restored.stdout + restored.stderr
    assert deal_titles(live) == ["Kept by the backup"]
    with sqlite3.connect(live) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM users").fetchone() == (3,)
    assert kanbot("db", "current").stdout.strip().endswith("(up to date)")


@SQLITE_ONLY
@pytest.mark.parametrize("damage", ["garbage", "torn page", "truncated", "not kanbot"])
def test_db_restore_refuses_a_damaged_file_and_changes_nothing(
    kanbot: Any, database_url: str, tmp_path: Path, damage: str
) -> None:
    live = sqlite_file(database_url)
    add_deal(database_url, "Still here")
    backup = tmp_path / "backup.db"
    assert kanbot("db", "backup", str(backup)).exit_code == 0
    data = bytearray(backup.read_bytes())
    if damage == "garbage":
        data = bytearray(b"\x13\x37" * 4096)
    elif damage == "torn page":
        page = 4096
        data[page * 2 : page * 2 + 512] = b"\xff" * 512  # a page's header and cells overwritten
    elif damage == "truncated":
        data = data[: len(data) // 3]
    else:
        with sqlite3.connect(tmp_path / "other.db") as other:
            other.execute("CREATE TABLE notes (text TEXT)")
        data = bytearray((tmp_path / "other.db").read_bytes())
    backup.write_bytes(bytes(data))
    before = live.read_bytes()

    result = kanbot("db", "restore", str(backup), "--yes")
    assert result.exit_code == 1, result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    message = result.stderr.strip()
    assert message.endswith("nothing was changed.") and "\n" not in message, message
    assert live.read_bytes() == before
    assert deal_titles(live) == ["Still here"]


@POSTGRES_ONLY
def test_db_backup_on_postgresql_writes_a_pg_dump_archive(
    kanbot: Any, database_url: str, tmp_path: Path
) -> None:
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed here")
    target = tmp_path / "kanbot.dump"
    result = kanbot("db", "backup", str(target))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert target.read_bytes()[:5] == b"PGDMP"
    refused = kanbot("db", "restore", str(target), "--yes")
    assert refused.exit_code == 1 and "pg_restore --clean --if-exists" in refused.stderr


# -- logs ----------------------------------------------------------------------------------------------


def test_redaction_masks_phones_and_tokens_but_leaves_dates_and_times_readable() -> None:
    assert redact("call from +7 916 123-45-67 ended") == "call from *******4567 ended"
    assert redact("callback 8 (495) 123-45-67") == "callback *******4567"
    token = "123456789:AAHk7xExampleExampleExample_abc-12"  # the shape of a real token
    assert redact(f"token {token} here") == "token ***:*** here"
    assert redact(f"POST https://api.telegram.org/bot{token}/getMe") == (
        "POST https://api.telegram.org/bot***:***/getMe"  # inside a Bot API URL too
    )
    line = "next run at: 2026-11-26 18:28:05 UTC; since 2026-11-25T09:00:00+03:00"
    assert redact(line) == line


def test_json_logs_are_json_lines_without_the_token_the_secret_or_a_full_phone(
    database_url: str, emulator_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = base_env(
        database_url,
        emulator_url,
        KANBOT_LOG_FORMAT="json",
        KANBOT_LOG_LEVEL="DEBUG",
        KANBOT_RUNTIME="ptb",  # its HTTP client logs every Bot API URL, the token in it
        KANBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
        KANBOT_WEBHOOK_SECRET=SECRET,
        KANBOT_CALLS_SECRET=CALLS_SECRET,
    )
    asyncio.run(_seed(database_url))
    process = KanbotProcess("json-logs", ["run"], env, tmp_path, port=port).start()
    try:
        asyncio.run(process.wait_ready())
        control(emulator_url, "/emulator/users", {"id": ALI, "first_name": "Ali"})
        control(emulator_url, "/emulator/messages", {"user_id": ALI, "text": "/find +7 916 123-45-67"})
        control(emulator_url, "/emulator/wait", {"quiet_ms": 300, "timeout_ms": 15000})
        _post_call(process.url, caller="+7 916 123-45-67", call_id="call-79161234567")
        process.signal(signal.SIGTERM)
        assert asyncio.run(process.exit_code(within_s=10)) == 0, process.output()
    finally:
        asyncio.run(process.stop())

    output = process.output()
    entries = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert entries and all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    for secret in (TOKEN, TOKEN.split(":")[1], SECRET, CALLS_SECRET, "79161234567", "916 123-45-67"):
        assert secret not in output, f"{secret!r} is in the logs"
    messages = [entry["message"] for entry in entries]
    assert any("/bot***/" in m for m in messages), "no Bot API URL was logged: the check proves little"
    assert any("***4567" in m for m in messages), "no phone number was logged: the check proves little"


async def _seed(database_url: str) -> None:
    async with seeded_crm(database_url):
        pass


def _post_call(base_url: str, *, caller: str, call_id: str) -> None:
    raw, headers = signed_call(call_body(call_id, caller=caller))
    request = urllib.request.Request(  # noqa: S310 - the process under test
        base_url + "/api/v1/calls",
        data=raw,
        headers=headers,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
        assert response.status == 202
