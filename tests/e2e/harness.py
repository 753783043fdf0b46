"""Driving Kanbot as its users do: through the Telegram emulator's control API, nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from bot.settings import TelegramSettings
from crm_core.adapters.database import Database
from crm_core.domain.users import Role
from crm_core.ports import Clock, FixedClock
from crm_core.services import Crm
from kanbot import process
from kanbot.settings import CoreSettings, ServerSettings, Settings
from telephony_bridge.settings import CloudPbxSettings
from telephony_bridge.signing import HEADER, sign

TOKEN = "700001:E2E-test-token"
BOT_ID = 700001
CALLS_SECRET = "e2e-calls-secret"
BOSS, ALI, MARIA, STRANGER = 1001, 2001, 2002, 9001
RUNTIME = os.environ.get("KANBOT_E2E_RUNTIME", "ptb")  # "aiogram": the same scenarios on aiogram
BOT_USERNAME = f"emulator_{BOT_ID}_bot"
FLOOD_BUDGET = 15  # updates one user may send before the harness lets ten seconds pass (the bot allows 20)
QUIET_MS = 40


_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def visible(text: str) -> str:
    """``text`` as a person reads it: without the invisible direction marks around titles and names."""
    return text.translate(_BIDI_CONTROLS)


def b36(number: int) -> str:
    """A whole number as button payloads carry it (base 36), for forging presses."""
    digits, out = "0123456789abcdefghijklmnopqrstuvwxyz", ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


@dataclass
class ShiftedClock:
    """The system's time, moved forward on request: a test lets ten seconds pass without sleeping."""

    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> datetime:
        self.offset += delta
        return self.now()


class Activity:
    """What the bot has yet to do, as far as waiting is concerned: updates sent to it and not yet
    in the chat core's hands, and updates being handled there."""

    GIVE_UP_S = 3.0  # an update the runtime does not pass to the core (not Kanbot's) is awaited no longer

    def __init__(self) -> None:
        self.in_flight = 0
        self.finished_at = 0.0
        self._awaited: dict[int, int] = {}  # update id -> deliveries not yet begun (may dip below 0)
        self._sent_at: dict[int, float] = {}

    def expect(self, update_id: int) -> None:
        """The test sent (or redelivered) this update in a private chat: the core will get it."""
        self._sent_at[update_id] = time.monotonic()
        self._count(update_id, +1)

    def begin(self, update_id: int) -> None:
        self._count(update_id, -1)
        self.in_flight += 1

    def _count(self, update_id: int, delta: int) -> None:
        left = self._awaited.get(update_id, 0) + delta
        if left:
            self._awaited[update_id] = left
        else:  # sent and begun, in either order
            self._awaited.pop(update_id, None)
            self._sent_at.pop(update_id, None)

    def end(self) -> None:
        self.in_flight -= 1
        self.finished_at = time.monotonic()

    def quiet_for(self, seconds: float) -> bool:
        now = time.monotonic()
        waiting = [
            u for u, n in self._awaited.items() if n > 0 and now - self._sent_at.get(u, now) < self.GIVE_UP_S
        ]
        return not waiting and self.in_flight == 0 and now - self.finished_at >= seconds


# The activities of the bots running in this process: a reply being carried out counts as work in
# flight for each (the core hands a reply back to its runtime, which sends it after the handler ends).
_PERFORMING: set[Activity] = set()


def _count_performs() -> None:
    """Wrap the runtimes' ``perform`` and ``press`` once per process, so waiting covers sending a reply
    too: its messages and edits may be far apart (a press's answer, then its edit) on a busy machine."""
    from bot import aiogram_runtime, ptb_runtime
    from bot.core import perform as performing

    if getattr(performing.perform, "counted", False):
        return
    for name in ("perform", "press"):
        counted = _counted(getattr(performing, name))
        for module in (performing, aiogram_runtime, ptb_runtime):
            setattr(module, name, counted)


def _counted(original: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    async def counted(*args: Any, **options: Any) -> None:
        watching = list(_PERFORMING)
        for activity in watching:
            activity.in_flight += 1  # before the first await: no gap after the handler's end
        try:
            await original(*args, **options)
        finally:
            for activity in watching:
                activity.end()

    counted.counted = True  # type: ignore[attr-defined]
    return counted


@dataclass
class Msg:
    message_id: int
    sender: str
    text: str
    html: str
    buttons: list[list[dict[str, Any]]]
    edited: bool
    deleted: bool
    photo: str | None
    raw: dict[str, Any]

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Msg:
        return cls(
            raw["message_id"],
            raw["from"],
            raw.get("text") or raw.get("caption") or "",
            raw.get("html") or "",
            raw.get("buttons") or [],
            raw["edited"],
            raw["deleted"],
            raw.get("photo"),
            raw,
        )

    @property
    def button_texts(self) -> list[str]:
        return [b["text"] for row in self.buttons for b in row]

    def button(self, prefix: str) -> dict[str, Any]:
        """The button whose text contains ``prefix`` (first match)."""
        for row in self.buttons:
            for b in row:
                if prefix in b["text"]:
                    return b
        raise AssertionError(f"no button {prefix!r} in {self.button_texts}")


class EmulatedChat:
    """Users of the emulated Telegram: they send messages, press buttons and read their chat."""

    def __init__(
        self,
        base_url: str,
        session: aiohttp.ClientSession,
        *,
        activity: Activity | None = None,
        let_time_pass: Callable[[timedelta], object] | None = None,
    ) -> None:
        self.base, self.http = base_url.rstrip("/") + "/emulator", session
        self.activity, self.let_time_pass = activity, let_time_pass
        self.last_update_id: int | None = None
        self.pacing = True  # keep each user under the bot's flood limit by letting time pass
        self._sent: dict[int, int] = {}

    async def _act(self, user_id: int, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One user action; every ``FLOOD_BUDGET`` actions of a user, ten seconds pass for the bot."""
        if self.pacing and self.let_time_pass is not None:
            self._sent[user_id] = self._sent.get(user_id, 0) + 1
            if self._sent[user_id] > FLOOD_BUDGET:
                self.let_time_pass(timedelta(seconds=11))
                self._sent = {user_id: 1}
        data: dict[str, Any] = await self._post(path, body)
        if data.get("update_id") is not None:
            self.last_update_id = int(data["update_id"])
            if self.activity is not None and "chat_id" not in body:
                self.activity.expect(self.last_update_id)
        return data

    async def _post(self, path: str, body: dict[str, Any], *, ok: tuple[int, ...] = (200,)) -> Any:
        async with self.http.post(self.base + path, json=body) as response:
            data = await response.json()
            assert response.status in ok, f"{path} {body} -> {response.status} {data}"
            return data

    async def _get(self, path: str) -> Any:
        async with self.http.get(self.base + path) as response:
            return await response.json() if response.status == 200 else None

    async def user(self, user_id: int, first_name: str, language_code: str = "en") -> None:
        await self._post("/users", {"id": user_id, "first_name": first_name, "language_code": language_code})

    async def send(self, user_id: int, text: str, *, wait: bool = True) -> int:
        data = await self._act(user_id, "/messages", {"user_id": user_id, "text": text})
        if wait:
            await self.wait()
        return int(data["update_id"])

    async def share_contact(self, user_id: int, phone: str, first_name: str = "") -> None:
        await self._act(
            user_id,
            "/messages",
            {"user_id": user_id, "contact": {"phone_number": phone, "first_name": first_name}},
        )
        await self.wait()

    async def group(self, title: str, chat_id: int = -1001) -> int:
        """Create a group the bot is a member of; returns its id."""
        data = await self._post("/chats", {"title": title, "type": "group", "id": chat_id})
        return int(data["id"])

    async def send_in(self, chat_id: int, user_id: int, text: str) -> int | None:
        """A user writes in a group; ``None`` when the bot (in privacy mode) does not get it."""
        data = await self._act(user_id, "/messages", {"user_id": user_id, "chat_id": chat_id, "text": text})
        await self.wait()
        return None if data.get("update_id") is None else int(data["update_id"])

    async def click(
        self, user_id: int, text: str, *, message_id: int | None = None, wait: bool = True
    ) -> str:
        """Press the button whose label contains ``text`` on the newest bot message that has one."""
        if message_id is None:
            for msg in reversed(await self.messages(user_id)):
                if msg.sender == "bot" and not msg.deleted and any(text in t for t in msg.button_texts):
                    message_id = msg.message_id
                    label = next(t for t in msg.button_texts if text in t)
                    break
            else:
                raise AssertionError(f"no button containing {text!r} in {user_id}'s chat")
        else:
            msg = await self.message(user_id, message_id)
            label = next(t for t in msg.button_texts if text in t)
        data = await self._act(
            user_id, "/clicks", {"user_id": user_id, "message_id": message_id, "button": label}
        )
        query = str(data["callback_query_id"])
        if wait:
            await self.wait()
            assert await self.answer(query) is not None, f"pressing {label!r} left the button spinning"
        return query

    async def press_data(self, user_id: int, message_id: int, data: str) -> str:
        """Press a button with any callback_data, as a modified client could."""
        result = await self._act(
            user_id, "/clicks", {"user_id": user_id, "message_id": message_id, "callback_data": data}
        )
        query = str(result["callback_query_id"])
        await self.wait()
        assert await self.answer(query) is not None, f"pressing {data!r} left the button spinning"
        return query

    async def answer(self, query_id: str) -> dict[str, Any] | None:
        return await self._get(f"/callback_answers/{query_id}")  # type: ignore[no-any-return]

    async def told(self, user_id: int, query_id: str) -> str:
        """What the user was told of a press: its answer or, when the press took longer than the bot's
        patience (a busy machine) and was answered "one moment", the message that came after it."""
        answer = await self.answer(query_id)
        assert answer is not None, f"press {query_id} left the button spinning"
        text = str(answer["text"] or "")
        return (await self.last(user_id)).text if text.startswith("⏳") else text

    async def wait(self, quiet_ms: int | None = None, timeout_ms: int = 15_000) -> None:
        """Until the bot has taken every update, finished handling them and sent what it had to send."""
        if self.activity is None:
            await self._post("/wait", {"quiet_ms": quiet_ms or 250, "timeout_ms": timeout_ms})
            return
        quiet = quiet_ms or QUIET_MS
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            await self._post("/wait", {"quiet_ms": quiet, "timeout_ms": timeout_ms})
            retry_in = await self._retry_pending()
            if retry_in == 0 and self.activity.quiet_for(quiet / 1000):
                return
            assert time.monotonic() < deadline, (
                f"the bot is still handling {self.activity.in_flight} update(s)"
            )
            await asyncio.sleep(max(retry_in, quiet / 1000))

    async def _retry_pending(self) -> float:
        """Seconds until the bot may retry a call Telegram answered with 429 just now (0: none)."""
        latest = 0.0
        for entry in await self._get("/log?limit=30") or []:
            if entry["status"] == 429:
                retry_after = float(entry["error"].rsplit(" ", 1)[-1])
                latest = max(latest, entry["time"] + retry_after + 0.2 - time.time())
        return max(latest, 0.0)

    async def wait_until(
        self, check: Callable[[], Awaitable[bool]], *, timeout_s: float = 15.0, what: str = "a condition"
    ) -> None:
        """Poll ``check`` until it holds: for what the bot does on its own (the outbox)."""
        deadline = time.monotonic() + timeout_s
        while not await check():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.1)

    async def messages(self, chat_id: int) -> list[Msg]:
        return [Msg.of(m) for m in await self._get(f"/chats/{chat_id}/messages") or []]

    async def message(self, chat_id: int, message_id: int) -> Msg:
        return next(m for m in await self.messages(chat_id) if m.message_id == message_id)

    async def bot_messages(self, chat_id: int) -> list[Msg]:
        return [m for m in await self.messages(chat_id) if m.sender == "bot" and not m.deleted]

    async def last(self, chat_id: int) -> Msg:
        """The newest message the bot sent (or edited) in the chat."""
        messages = await self.bot_messages(chat_id)
        assert messages, f"the bot has said nothing to {chat_id}"
        return messages[-1]

    async def keyboard(self, chat_id: int) -> list[str]:
        """The reply keyboard's labels the user has under the input field."""
        chat = await self._get(f"/chats/{chat_id}") or {}
        board = chat.get("keyboard") or {}
        return [b["text"] if isinstance(b, dict) else b for row in board.get("keyboard", []) for b in row]

    async def redeliver(self, update_id: int) -> None:
        await self._post("/redeliver", {"update_id": update_id})
        if self.activity is not None:
            self.activity.expect(update_id)
        await self.wait()

    async def faults(self, method: str, status: int, count: int, retry_after: int | None = None) -> None:
        body: dict[str, Any] = {"method": method, "status": status, "count": count}
        if retry_after is not None:
            body["retry_after"] = retry_after
        await self._post("/faults", body)

    async def limits(self, **values: Any) -> None:
        await self._post("/limits", values)

    async def log(self, method: str | None = None) -> list[dict[str, Any]]:
        return await self._get("/log" + (f"?method={method}" if method else "")) or []  # type: ignore[no-any-return]

    async def refusals(self) -> list[dict[str, Any]]:
        """Bot API calls the emulator refused as Telegram would (400s), with what was wrong."""
        return [e for e in await self.log() if e["status"] == 400]


def call_body(call_id: str, **fields: Any) -> dict[str, Any]:
    """A generic PBX's inbound call as ``POST /api/v1/calls`` takes it: missed at +74950000000, ringing
    extension 101, half a minute ago; ``fields`` change any of it."""
    started = (datetime.now(UTC) - timedelta(seconds=30)).isoformat()
    return {
        "call_id": call_id,
        "provider": "generic",
        "direction": "inbound",
        "status": "missed",
        "caller": "+74951234567",
        "dialed": "+74950000000",
        "rang": ["101"],
        "answered_by": None,
        "transfers": [],
        "started_at": started,
        "answered_at": None,
        "ended_at": started,
        "duration_s": 0,
    } | fields


def signed_call(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The call's JSON and the headers that sign it with the test Kanbot's calls secret."""
    raw = json.dumps(body).encode()
    return raw, {HEADER: sign(raw, CALLS_SECRET), "Content-Type": "application/json"}


async def post_call(http_url: str, body: dict[str, Any]) -> dict[str, Any]:
    """Post the call to a running Kanbot as its PBX would, and its answer (202 expected)."""
    raw, headers = signed_call(body)
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{http_url}/api/v1/calls", data=raw, headers=headers) as response,
    ):
        assert response.status == 202, await response.text()
        return await response.json()  # type: ignore[no-any-return]


def settings_for(database_url: str, emulator_url: str, runtime: str = RUNTIME) -> Settings:
    return Settings(
        core=CoreSettings(
            _env_file=None, database_url=database_url, default_region="RU", default_currency="RUB"
        ),  # type: ignore[call-arg]
        telegram=TelegramSettings(
            _env_file=None, bot_token=TOKEN, telegram_api_url=emulator_url, runtime=runtime
        ),  # type: ignore[call-arg]
        server=ServerSettings(_env_file=None, http_host="127.0.0.1", http_port=0),  # type: ignore[call-arg]
        cloud=CloudPbxSettings(_env_file=None, calls_secret=CALLS_SECRET),  # type: ignore[call-arg]
    )


WEBHOOK_PATH = "/telegram/webhook"


def webhook_settings(
    database_url: str, emulator_url: str, *, port: int, secret: str | None, runtime: str = RUNTIME
) -> Settings:
    """``settings_for`` in webhook mode: Telegram (the emulator) posts updates to Kanbot's own ``port``."""
    settings = settings_for(database_url, emulator_url, runtime)
    settings.telegram = TelegramSettings(
        _env_file=None,
        bot_token=TOKEN,
        telegram_api_url=emulator_url,
        webhook_url=f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
        webhook_secret=secret,
        runtime=runtime,
    )
    settings.server = ServerSettings(_env_file=None, http_host="127.0.0.1", http_port=port)
    return settings


@dataclass
class RunningKanbot:
    """``kanbot run`` in this event loop, against the emulator; restartable like a real process."""

    settings: Settings
    clock: Clock | None = field(default_factory=ShiftedClock)
    kanbot: process.Kanbot | None = None
    activity: Activity = field(default_factory=Activity)
    _task: asyncio.Task[None] | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        self._stop = asyncio.Event()
        ready: asyncio.Future[process.Kanbot] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(
            process.run(self.settings, stop=self._stop, clock=self.clock, ready=ready)
        )
        done, _ = await asyncio.wait({self._task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            self._task.result()  # raises what stopped it
        self.kanbot = ready.result()
        self._track(self.kanbot.chat)
        _count_performs()
        _PERFORMING.add(self.activity)

    def _track(self, chat: Any) -> None:
        """Count updates in the chat core's hands, so a test waits for handlers slower than quiet_ms."""
        handle, activity = chat.handle, self.activity

        async def tracked(event: Any, **options: Any) -> Any:
            activity.begin(event.update_id)
            try:
                return await handle(event, **options)
            finally:
                activity.end()

        chat.handle = tracked

    def now(self) -> datetime:
        """The bot's time."""
        return (self.clock or ShiftedClock()).now()

    def let_time_pass(self, delta: timedelta) -> None:
        """Move the bot's clock forward (its flood window, its "now"), as if ``delta`` had passed."""
        assert isinstance(self.clock, ShiftedClock), "the bot's clock cannot be moved"
        self.clock.advance(delta)

    async def stop(self) -> None:
        _PERFORMING.discard(self.activity)
        self._stop.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, timeout=15)
        self._task = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    @property
    def http_url(self) -> str:
        assert self.kanbot is not None
        return f"http://127.0.0.1:{self.kanbot.http_port}"


@contextlib.asynccontextmanager
async def kanbot_ticked_by_hand(
    database_url: str, emulator_url: str, runtime: str = RUNTIME, *, at: datetime | None = None
) -> AsyncIterator[RunningKanbot]:
    """A running Kanbot whose scheduler waits an hour between ticks, so the test ticks by hand and
    nothing falls due in its middle; its clock starts at ``at`` (now when not given)."""
    settings = settings_for(database_url, emulator_url, runtime)
    settings.server.tick_seconds = 3600
    clock = ShiftedClock(at - datetime.now(UTC)) if at is not None else ShiftedClock()
    running = RunningKanbot(settings, clock=clock)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


def crm_at(crm: Crm, moment: datetime) -> Crm:
    """The same CRM with its clock stopped at ``moment``: to set a scene in the past."""
    return Crm(crm.db, clock=FixedClock(moment), config=crm.config)


@contextlib.asynccontextmanager
async def seeded_crm(database_url: str, clock: Clock | None = None) -> AsyncIterator[Crm]:
    """A CRM on the test database with the default funnel, a boss (Olga) and two sellers (Ali, Maria)."""
    db = Database(database_url)
    crm = Crm(db, clock=clock, config=settings_for(database_url, "http://x").core.crm_config())
    await crm.pipelines.seed_defaults()
    await crm.users.ensure_boss(telegram_id=BOSS, name="Olga")
    await crm.users.add(telegram_id=ALI, name="Ali", role=Role.SELLER, extensions=("101",))
    await crm.users.add(telegram_id=MARIA, name="Maria", role=Role.SELLER, extensions=("102",))
    try:
        yield crm
    finally:
        await db.dispose()


TEAM = ((BOSS, "Olga", "en"), (ALI, "Ali", "en"), (MARIA, "Maria", "ru"))


@contextlib.asynccontextmanager
async def team_chat(
    kanbot: RunningKanbot, emulator_url: str, *others: tuple[int, str, str]
) -> AsyncIterator[EmulatedChat]:
    """The emulator's chat, with the team (Olga the boss, Ali, Maria in Russian) and ``others`` as
    Telegram users, waiting for the running Kanbot's handlers."""
    async with aiohttp.ClientSession() as session:
        users = EmulatedChat(
            emulator_url, session, activity=kanbot.activity, let_time_pass=kanbot.let_time_pass
        )
        for user_id, name, language in (*TEAM, *others):
            await users.user(user_id, name, language)
        yield users
