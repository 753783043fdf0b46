"""``run_demo``: a fresh demo database, the emulator with the call panel, and Kanbot, until Ctrl+C."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import secrets
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bot.settings import TelegramSettings
from crm_core.adapters import migrate
from crm_core.adapters.database import Database
from crm_core.config import CreateDealsFrom
from crm_core.ports import FixedClock
from crm_core.services import Crm
from kanbot import process
from kanbot.demo.calls import PAGE_EXTENSION, CallSimulator
from kanbot.demo.data import DemoSummary, generate
from kanbot.demo.team import BOT_NAME, BOT_TOKEN, BOT_USERNAME, CURRENCY, LANGUAGES, team
from kanbot.dialing import in_process_placer
from kanbot.settings import CoreSettings, ServerSettings, Settings
from telegram_emulator import Emulator
from telephony_bridge.settings import AmiSettings, CloudPbxSettings, DialSettings

DEMO_DB = "demo.db"
REGION = "RU"  # how numbers typed without a country code are read, as in Kanbot's default


class DemoError(Exception):
    """The demo cannot start; the message is one sentence saying what to do."""


@dataclass(frozen=True, slots=True)
class RunningDemo:
    """A started demo, for tests and callers that passed ``ready``."""

    emulator_url: str
    http_url: str
    database_url: str
    summary: DemoSummary
    emulator: Emulator
    kanbot: process.Kanbot
    calls: CallSimulator


async def run_demo(
    host: str = "127.0.0.1",
    emulator_port: int = 8081,
    http_port: int = 8080,
    data_dir: Path = Path("var/demo"),
    stop: asyncio.Event | None = None,
    ready: asyncio.Future[RunningDemo] | None = None,
    say: Callable[[str], None] | None = None,
    lang: str | None = None,
) -> None:
    """Run the offline demo until ``stop`` is set (or Ctrl+C / SIGTERM); ``DemoError`` if it cannot.
    ``lang``: everyone speaks it and types in it (else each person their own language)."""
    say = say or _print
    stop = stop or _stop_on_signals(say)
    check_ports(host, emulator_port=emulator_port, http_port=http_port)
    say("Preparing the demo: a fresh database with two months of a sales team's work…")
    try:
        database_url = fresh_database(data_dir)
    except OSError as error:
        raise DemoError(f"Cannot make the demo database in {data_dir}: {error.strerror or error}.") from None
    summary = await seed(database_url, lang)
    if stop.is_set():
        return
    secret = secrets.token_urlsafe(32)
    simulator = CallSimulator(secret=secret, region=REGION)
    emulator = Emulator(
        host, emulator_port, extra_routes=simulator.routes(), page_extensions=[PAGE_EXTENSION]
    )
    try:
        try:
            await emulator.start()
        except OSError as error:
            raise DemoError(cannot_listen(host, emulator_port, "--port", error)) from None
        await introduce(emulator.url, lang)
        settings = demo_settings(database_url, emulator.url, host=host, http_port=http_port, secret=secret)
        started: asyncio.Future[process.Kanbot] = asyncio.get_running_loop().create_future()
        running = asyncio.create_task(process.run(settings, stop=stop, ready=started))
        either: list[asyncio.Future[Any]] = [running, started]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            _raise_start_failure(running, host, http_port)
            return  # stopped before it was up
        kanbot = started.result()
        http_url = f"http://{_local(host)}:{kanbot.http_port}"
        simulator.attach(calls_url=f"{http_url}/api/v1/calls", crm=kanbot.crm)
        # The demo PBX places the calls asked for from the cards ("📞 Call"): the panel rings.
        placer = in_process_placer(kanbot.crm, simulator, after_report=kanbot.delivery.wake.set)
        kanbot.chat.after_update.append(placer.wake.set)
        placing = asyncio.create_task(placer.run(stop), name="demo-dial")
        say(banner(emulator.url, http_url, summary, data_dir / DEMO_DB, lang))
        if ready is not None and not ready.done():
            ready.set_result(
                RunningDemo(emulator.url, http_url, database_url, summary, emulator, kanbot, simulator)
            )
        await running
        await asyncio.gather(placing, return_exceptions=True)
        say("The demo has stopped.")
    finally:
        await simulator.close()
        await emulator.stop()


def _print(text: str) -> None:
    print(text, flush=True)  # a pipe (a log, a test) sees each line at once


def _raise_start_failure(running: asyncio.Task[None], host: str, http_port: int) -> None:
    error = running.exception()
    if isinstance(error, OSError) and error.errno in (errno.EADDRINUSE, errno.EACCES):
        raise DemoError(cannot_listen(host, http_port, "--http-port", error)) from error
    if error is not None:
        raise error


def check_ports(host: str, *, emulator_port: int, http_port: int) -> None:
    """Refuse, in one sentence, ports the demo cannot listen on, before any work is done."""
    if emulator_port and emulator_port == http_port:
        raise DemoError(f"The page and Kanbot's HTTP server need two ports, not {http_port} twice.")
    for port, flag in ((emulator_port, "--port"), (http_port, "--http-port")):
        problem = listen_problem(host, port)
        if problem is not None:
            raise DemoError(cannot_listen(host, port, flag, problem))


def listen_problem(host: str, port: int) -> OSError | None:
    """Why nothing could listen on ``host:port`` now, or ``None`` (port 0: any free port, always fine)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        if port:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
                probe.bind(address)
    except OSError as error:
        return error
    return None


def cannot_listen(host: str, port: int, flag: str, error: OSError) -> str:
    """The one sentence for a newcomer: what is wrong with the address, and which option fixes it."""
    if isinstance(error, socket.gaierror):
        return f"{host} is not an address of this machine ({error.strerror}): try --host 127.0.0.1."
    if error.errno == errno.EADDRINUSE:
        return (
            f"Port {port} on {host} is already in use (is another Kanbot demo running?): "
            f"stop what uses it, or pick another port with {flag} {port + 10}."
        )
    if error.errno == errno.EACCES:
        return f"Port {port} needs administrator rights: pick one above 1023 with {flag}."
    return f"Cannot listen on {host}:{port} ({error.strerror or error}): pick another with {flag} or --host."


def fresh_database(data_dir: Path) -> str:
    """Delete the previous demo database (only its own files in ``data_dir``) and return the new URL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = (data_dir / DEMO_DB).resolve()
    for name in (DEMO_DB, f"{DEMO_DB}-wal", f"{DEMO_DB}-shm", f"{DEMO_DB}-journal"):
        (path.parent / name).unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{path}"


async def seed(database_url: str, lang: str | None = None) -> DemoSummary:
    """Migrate the empty database and generate the demo world, ending now."""
    db = Database(database_url)
    try:
        await migrate.upgrade(db)
        now = datetime.now(UTC)
        clock = FixedClock(now)
        crm = Crm(db, clock=clock, config=core_settings(database_url).crm_config())
        return await generate(crm, clock, now=now, lang=lang)
    finally:
        await db.dispose()


async def introduce(emulator_url: str, lang: str | None = None) -> None:
    """Tell the emulator the bot's name and the demo people, in their languages."""
    async with aiohttp.ClientSession(base_url=emulator_url) as http:
        bot = {"token": BOT_TOKEN, "username": BOT_USERNAME, "first_name": BOT_NAME}
        async with http.post("/emulator/bots", json=bot) as response:
            response.raise_for_status()
        for person in team(lang):
            user = {
                "id": person.telegram_id,
                "first_name": person.name,
                "username": person.username,
                "language_code": person.locale,
            }
            async with http.post("/emulator/users", json=user) as response:
                response.raise_for_status()


def core_settings(database_url: str) -> CoreSettings:
    # Everything explicit: a KANBOT_* variable meant for a real installation must not leak in.
    return CoreSettings(
        _env_file=None,
        database_url=database_url,
        default_region=REGION,
        default_currency=CURRENCY,
        calls_create_deals=CreateDealsFrom.ALL,
        call_back_minutes=15,
        own_numbers=[],
        blocked_numbers=[],
        boss_ids=[],
        team_timezone="Europe/Moscow",  # Olga's: where the targets' month begins
    )


def demo_settings(
    database_url: str, emulator_url: str, *, host: str, http_port: int, secret: str
) -> Settings:
    """Kanbot's settings for the demo: the emulator as Telegram, the demo PBX's shared secret."""
    return Settings(
        core=core_settings(database_url),
        telegram=TelegramSettings(
            _env_file=None,
            bot_token=BOT_TOKEN,
            telegram_api_url=emulator_url,
            webhook_url=None,
            webhook_secret=None,
            board_app_url=None,
        ),
        server=ServerSettings(_env_file=None, http_host=host, http_port=http_port),
        cloud=CloudPbxSettings(
            _env_file=None,
            calls_secret=secret,
            default_region=REGION,
            twilio_auth_token=None,
            zadarma_secret=None,
            mango_api_key=None,
            mango_api_salt=None,
        ),
        ami=AmiSettings(_env_file=None, ami_username=None, ami_secret=None),
        # The cards offer "📞 Call"; the demo PBX places the calls, as a separate bridge would.
        dial=DialSettings(_env_file=None, dial_via="bridge"),
    )


def banner(
    page_url: str, http_url: str, summary: DemoSummary, database: Path, lang: str | None = None
) -> str:
    """What a newcomer reads in the terminal: where to go, who to be, what to try, how to stop."""
    people = []
    for person in team(lang):
        role = "boss" if not person.is_seller else "seller"
        where = f"ext {person.extension}, {person.timezone}" if person.extension else person.timezone
        people.append(
            f"  {person.name:<6} {role:<7} Telegram id {person.telegram_id}  "
            f"{LANGUAGES[person.locale]:<8} {where}"
        )
    return "\n".join(
        [
            "",
            f"Kanbot demo is running: open {page_url}/ in your browser.",
            "",
            f"Demo data ({database}): {summary.deals} deals over the last 60 days — {summary.won} won, "
            f"{summary.lost} lost, {summary.open} open ({summary.unassigned} unassigned in the inbox, "
            f"{summary.stale} gone stale ⏰) — {summary.open_tasks} open tasks, {summary.calls} calls.",
            "",
            "Chat as one of them (pick the name at the top of the page):",
            *people,
            "  The bot speaks each person's language: Ali's chat is in Arabic, Maria's in Russian",
            "  (/lang changes it).",
            "",
            "Try first:",
            "  1. As Olga (the boss): press Start (or send /start), then /board for the funnel and /report",
            "     for conversion — Commercial offer is the team's lame stage ⚠️, Tom's is Document approval.",
            "  2. As Tom: /deals, open a deal, move it forward with its buttons; /tasks for what is due.",
            '  3. The "Telephony (demo PBX)" panel beside the chat: "Simulate an incoming call" to a',
            "     seller — the deal's card pops up in their chat at once; a missed call leaves a",
            "     call-back task.",
            "",
            f"Kanbot's HTTP API (call webhooks): {http_url}/api/v1/calls",
            "Press Ctrl+C to stop. Every start makes a fresh demo database.",
            "",
        ]
    )


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104 (a comparison)


def _stop_on_signals(say: Callable[[str], None]) -> asyncio.Event:
    """Ctrl+C or SIGTERM stops the demo cleanly; a second Ctrl+C interrupts at once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        if not stop.is_set():
            say("Stopping the demo…")
        stop.set()
        loop.remove_signal_handler(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, on_signal, sig)
    return stop
