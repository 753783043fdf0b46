"""The soak: ``kanbot run`` under steady load for minutes — users pressing buttons and typing through the
Telegram emulator, and a PBX posting calls to ``/api/v1/calls`` — then checks that nothing was lost or
doubled and that it did not degrade: memory and the outbox's depth stay flat, and each window's p99
latency stays within twice the first window's (or half a second, when that is more: a first window
at 0.1 s would otherwise fail on a 0.25 s blip no chat user notices).

``python -m tests.reliability.soak [--minutes 10] [--users 200] [--calls-per-second 20]`` (``make soak``);
SQLite by default, PostgreSQL with ``--database-url`` or ``KANBOT_TEST_DATABASE_URL`` (a fresh database
is created on that server). Exit 0 when every check holds; the summary says what was measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from crm_core.adapters import migrate
from crm_core.adapters.database import Database
from crm_core.config import CrmConfig
from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from crm_core.domain.users import Role
from crm_core.services import Crm
from telegram_emulator import Emulator
from telephony_bridge.signing import HEADER, sign
from telephony_bridge.spool import encode
from tests.e2e.harness import BOT_ID, CALLS_SECRET
from tests.ops.support import KanbotProcess, base_env
from tests.reliability import nothing_lost
from tests.reliability.nothing_lost import TALLY

P99_FLOOR_S = 0.5  # a reply p99 under this is no degradation a user notices
BOSS = 1001
FIRST_SELLER = 3000
THINK_S = (5.0, 25.0)  # between two actions of one user: 200 users make about 13 actions a second
COMMANDS = ["/deals", "/board", "/tasks", "/deals", "/start"]


@dataclass
class Window:
    latencies: list[float] = field(default_factory=list)
    call_latencies: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    outbox_due: list[int] = field(default_factory=list)
    actions: int = 0
    calls: int = 0


@dataclass
class Soak:
    base: str
    kanbot: KanbotProcess
    window_s: float
    started: float = field(default_factory=time.monotonic)
    windows: dict[int, Window] = field(default_factory=lambda: defaultdict(Window))
    waiting: dict[int, float] = field(default_factory=dict)  # chat -> when its user acted
    presses: dict[str, int] = field(default_factory=dict)  # callback query id -> the user who pressed
    answered: set[str] = field(default_factory=set)
    updates: list[int] = field(default_factory=list)
    accepted_calls: list[str] = field(default_factory=list)
    refused_calls: int = 0
    bot_errors: list[tuple[str, str]] = field(default_factory=list)
    call_serial: int = 0
    in_flight: set[asyncio.Task[None]] = field(default_factory=set)

    def window(self) -> Window:
        return self.windows[int((time.monotonic() - self.started) // self.window_s)]

    def observe(self, entry: dict[str, Any]) -> None:
        """Every Bot API call the bot makes, as the emulator logs it: latencies and refusals."""
        params, now = entry.get("params") or {}, time.time()
        refused = entry["status"] >= 400 and entry["status"] != 429
        if refused and "not modified" not in str(entry["error"]):
            self.bot_errors.append((entry["method"], str(entry["error"])))
        query = params.get("callback_query_id")
        if entry["method"] == "answerCallbackQuery" and query in self.presses:
            self.answered.add(query)
            user = self.presses[query]
            if user in self.waiting:  # a press: its answer is the reply
                self.window().latencies.append(now - self.waiting.pop(user))
            return
        chat = params.get("chat_id")
        if chat is not None and int(chat) in self.waiting:
            self.window().latencies.append(now - self.waiting.pop(int(chat)))


async def prepare(database_url: str, users: int) -> None:
    db = Database(database_url)
    await migrate.upgrade(db)
    crm = Crm(db, config=CrmConfig(default_region="RU", default_currency="RUB"))
    await crm.pipelines.seed_defaults()
    await crm.users.ensure_boss(telegram_id=BOSS, name="Olga")
    for n in range(users):
        seller = await crm.users.add(
            telegram_id=FIRST_SELLER + n, name=f"Seller {n}", role=Role.SELLER, extensions=(str(100 + n),)
        )
        for stage in ("Unsorted", "Opportunity", "Commercial offer"):
            await crm.deals.create(actor=seller, title=f"Soak {n} {stage}", amount="1000", stage=stage)
    await db.dispose()


async def user_loop(soak: Soak, http: aiohttp.ClientSession, emu: Emulator, user: int, until: float) -> None:
    rng = random.Random(user)
    await asyncio.sleep(rng.uniform(0, THINK_S[1]))
    while time.monotonic() < until:
        await asyncio.sleep(rng.uniform(THINK_S[0], THINK_S[1]))
        body: dict[str, Any] = {"user_id": user}
        path = "/emulator/messages"
        buttons = latest_buttons(emu, user)
        if buttons and rng.random() < 0.7:
            message_id, data = rng.choice(buttons)
            path, body = "/emulator/clicks", body | {"message_id": message_id, "callback_data": data}
        else:
            body["text"] = rng.choice(COMMANDS)
        soak.waiting[user] = time.time()
        async with http.post(soak.base + path, json=body) as response:
            data_out = await response.json()
        if response.status != 200:
            soak.bot_errors.append(("emulator " + path, str(data_out)))
            continue
        if data_out.get("update_id") is not None:
            soak.updates.append(int(data_out["update_id"]))
        if "callback_query_id" in data_out:
            soak.presses[str(data_out["callback_query_id"])] = user
        soak.window().actions += 1


def latest_buttons(emu: Emulator, user: int) -> list[tuple[int, str]]:
    """The callback buttons of the bot's two newest messages in the user's chat (read in process)."""
    bot = emu.world.bots.get(BOT_ID)
    chat = bot.chats.get(user) if bot else None
    if chat is None:
        return []
    mine = [m for m in chat.messages.values() if m.from_user.get("is_bot") and not m.deleted][-2:]
    return [
        (m.message_id, b["callback_data"])
        for m in mine
        for row in m.inline_keyboard
        for b in row
        if "callback_data" in b
    ]


async def call_loop(
    soak: Soak, http: aiohttp.ClientSession, users: int, per_second: float, until: float
) -> None:
    interval = 1 / per_second
    while time.monotonic() < until:
        tick = time.monotonic()
        task = asyncio.create_task(post_call(soak, http, users))
        soak.in_flight.add(task)
        task.add_done_callback(soak.in_flight.discard)
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - tick)))


async def post_call(soak: Soak, http: aiohttp.ClientSession, users: int) -> None:
    soak.call_serial += 1
    n = soak.call_serial
    started = datetime.now(UTC) - timedelta(seconds=30)
    answered = n % 3 != 0
    event = CallEvent(
        call_id=f"soak-{n}",
        provider="soakpbx",
        direction=CallDirection.INBOUND,
        status=CallStatus.ANSWERED if answered else CallStatus.MISSED,
        caller=f"+7916{n % 10_000_000:07d}",
        dialed="+74997001122",
        started_at=started,
        rang=(str(100 + n % users),),
        answered_by=str(100 + n % users) if answered else None,
        answered_at=started + timedelta(seconds=3) if answered else None,
        ended_at=started + timedelta(seconds=25),
        duration_s=22 if answered else 0,
    )
    body = encode(event)
    sent = time.monotonic()
    try:
        async with http.post(
            soak.kanbot.url + "/api/v1/calls",
            data=body,
            headers={"Content-Type": "application/json", HEADER: sign(body, CALLS_SECRET)},
        ) as response:
            ok = 200 <= response.status < 300
    except (aiohttp.ClientError, TimeoutError):
        ok = False
    if ok:
        soak.accepted_calls.append(event.call_id)
        window = soak.window()
        window.calls += 1
        window.call_latencies.append(time.monotonic() - sent)
    else:
        soak.refused_calls += 1


async def sample_loop(soak: Soak, database_url: str, until: float) -> None:
    engine = create_async_engine(database_url)
    try:
        while time.monotonic() < until:
            window = soak.window()
            window.rss_mb.append(rss_mb(soak.kanbot))
            async with engine.connect() as conn:
                due = await conn.scalar(
                    text("SELECT count(*) FROM outbox WHERE status = 'pending' AND not_before <= :now"),
                    {"now": datetime.now(UTC)},
                )
            window.outbox_due.append(int(due or 0))
            await asyncio.sleep(5)
    finally:
        await engine.dispose()


def rss_mb(process: KanbotProcess) -> float:
    assert process.proc is not None
    for line in Path(f"/proc/{process.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="kanbot-soak-"))
    database_url, drop = await database(args, workdir)
    try:
        await prepare(database_url, args.users)
        async with Emulator(port=0) as emu:
            return await soak_with(args, emu, database_url, workdir)
    finally:
        await drop()


async def database(args: argparse.Namespace, workdir: Path) -> tuple[str, Any]:
    server = args.database_url or os.environ.get("KANBOT_TEST_DATABASE_URL")

    async def nothing() -> None:
        return None

    if not server:
        return f"sqlite+aiosqlite:///{workdir}/soak.db", nothing
    url = make_url(server)
    name = f"kanbot_soak_{os.getpid()}"

    async def admin(statement: str) -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(statement))
        await engine.dispose()

    await admin(f'CREATE DATABASE "{name}"')

    async def drop() -> None:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.set(database=name).render_as_string(hide_password=False), drop


async def soak_with(args: argparse.Namespace, emu: Emulator, database_url: str, workdir: Path) -> int:
    env = base_env(
        database_url,
        emu.url,
        KANBOT_CALLS_SECRET=CALLS_SECRET,
        # 20 calls a second from new numbers is the load to measure, not a call flood to hold back.
        KANBOT_CALL_FLOOD_NEW_NUMBERS="0",
        KANBOT_WORKING_DAYS="mon-sun",  # every notification is due now, whatever the hour
        KANBOT_WORKING_HOURS="00:00-23:59",
        KANBOT_LOG_LEVEL="WARNING",
    )
    kanbot = KanbotProcess("kanbot-soak", ["run"], env, workdir)
    window_s = 60.0 if args.minutes >= 2 else max(10.0, args.minutes * 60 / 3)
    soak = Soak(emu.url, kanbot, window_s)
    record = emu.world.record

    def recording(entry: dict[str, Any]) -> None:
        record(entry)
        soak.observe(entry)

    emu.world.record = recording  # type: ignore[method-assign]
    users = [FIRST_SELLER + n for n in range(args.users)]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        await http.post(emu.url + "/emulator/limits", json={"global_per_sec": 1000, "global_burst": 1000})
        for n, user in enumerate(users):
            await http.post(emu.url + "/emulator/users", json={"id": user, "first_name": f"Seller {n}"})
        kanbot.start()
        try:
            await kanbot.wait_ready()
            soak.started = time.monotonic()
            until = soak.started + args.minutes * 60
            backend = make_url(database_url).get_backend_name()
            print(
                f"soak: {args.users} users, {args.calls_per_second} calls/s, {args.minutes} min, {backend}",
                flush=True,
            )
            await asyncio.gather(
                *(user_loop(soak, http, emu, user, until) for user in users),
                call_loop(soak, http, args.users, args.calls_per_second, until),
                sample_loop(soak, database_url, until),
                progress(soak, until),
            )
            await settle(soak, database_url)
        finally:
            kanbot.signal(signal.SIGTERM)
            await kanbot.exit_code(within_s=15)
            await kanbot.stop()
    return await verdict(soak, database_url, args)


async def progress(soak: Soak, until: float) -> None:
    while time.monotonic() < until:
        await asyncio.sleep(min(soak.window_s, max(0.1, until - time.monotonic())))
        index = int((time.monotonic() - soak.started) // soak.window_s) - 1
        if index in soak.windows:
            print("  " + line(index, soak.windows[index], soak.window_s), flush=True)


async def settle(soak: Soak, database_url: str) -> None:
    """Let the bot answer what is in flight and the outbox drain."""
    await asyncio.gather(*soak.in_flight)
    await asyncio.sleep(5)
    db = Database(database_url)
    try:
        await nothing_lost.outbox_drained(db, timeout_s=180)
    finally:
        await db.dispose()


def line(index: int, window: Window, window_s: float) -> str:
    return (
        f"{index * window_s / 60:4.1f} min: {window.actions / window_s:5.1f} actions/s, "
        f"{window.calls / window_s:5.1f} calls/s, reply p50 {pct(window.latencies, 0.5) * 1000:6.0f} ms "
        f"p99 {pct(window.latencies, 0.99) * 1000:6.0f} ms, "
        f"call p99 {pct(window.call_latencies, 0.99) * 1000:5.0f} ms, "
        f"RSS {max(window.rss_mb, default=0):6.1f} MB, outbox due {max(window.outbox_due, default=0):4d}"
    )


async def verdict(soak: Soak, database_url: str, args: argparse.Namespace) -> int:
    load_windows = round(args.minutes * 60 / soak.window_s)  # not the tail after the load stopped
    windows = [soak.windows[i] for i in range(load_windows) if soak.windows[i].actions]
    TALLY.cases += len(soak.updates) + soak.call_serial
    problems: list[str] = []
    first, rest = windows[0], windows[1:]
    first_p99 = pct(first.latencies, 0.99)
    bound = max(2 * first_p99, P99_FLOOR_S)
    for i, w in enumerate(rest, start=1):
        if pct(w.latencies, 0.99) > bound:
            problems.append(
                f"window {i}: p99 {pct(w.latencies, 0.99):.3f} s > {bound:.3f} s"
                f" (2 × first {first_p99:.3f} s)"
            )
    last = windows[-1]
    if max(last.rss_mb, default=0) > 1.25 * max(first.rss_mb, default=0) + 10:
        problems.append(f"memory grew: {max(first.rss_mb):.0f} MB -> {max(last.rss_mb):.0f} MB")
    # The outbox fills during the first window (the load starts from nothing): flat means that after it
    # the backlog stops growing, not that it stays at the first window's.
    settled = windows[1] if len(windows) >= 3 else first
    if max(last.outbox_due, default=0) > 1.5 * max(settled.outbox_due, default=0) + 50:
        problems.append(f"outbox grew: {max(settled.outbox_due)} -> {max(last.outbox_due)} due")
    unanswered = [q for q in soak.presses if q not in soak.answered]
    if unanswered:
        problems.append(f"{len(unanswered)} of {len(soak.presses)} presses never answered")
    if soak.bot_errors:
        problems.append(f"{len(soak.bot_errors)} calls refused: {soak.bot_errors[:3]}")
    db = Database(database_url)
    try:
        for check in (
            nothing_lost.updates_handled_once(db, bot_id=BOT_ID, update_ids=soak.updates),
            nothing_lost.calls_once(
                db, [("soakpbx", c, True) for c in soak.accepted_calls], only_accepted=False
            ),
            nothing_lost.outbox_settled(db, allow_given_up=()),
            nothing_lost.reminders_once(db),
        ):
            try:
                await check
            except AssertionError as error:
                problems.append(str(error))
    finally:
        await db.dispose()
    print("\nsoak summary")
    for i, w in enumerate(windows):
        print("  " + line(i, w, soak.window_s))
    print(
        f"  {len(soak.updates)} updates ({len(soak.presses)} presses), {len(soak.accepted_calls)} calls"
        f" accepted ({soak.refused_calls} refused), over {args.minutes} min with {args.users} users"
    )
    for text_line in TALLY.lines():
        print("  " + text_line)
    print(
        "  nothing lost or doubled; flat" if not problems else "  PROBLEMS:\n    " + "\n    ".join(problems)
    )
    return 0 if not problems else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.reliability.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load lasts (default 10)")
    parser.add_argument("--users", type=int, default=200, help="users pressing buttons (default 200)")
    parser.add_argument(
        "--calls-per-second", type=float, default=20.0, help="calls posted a second (default 20)"
    )
    parser.add_argument("--database-url", help="a PostgreSQL server URL (a fresh database is made there)")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
