"""Two ``serve --web`` behind a load balancer and two ``serve --worker`` on one PostgreSQL database.

Sellers use the bot while the leading worker is killed with SIGKILL: every update has exactly one
effect, every reminder and digest reaches its chat exactly once, and the standby worker takes over
within seconds and drains what comes after.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from crm_core.domain.users import User
from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import ALI, BOSS, MARIA, EmulatedChat, Msg, crm_at, seeded_crm
from tests.ops.support import (
    SECRET,
    KanbotProcess,
    RoundRobinProxy,
    base_env,
    metric_total,
    noon_zone,
    plain,
    rows,
    wait_for,
)
from tests.support.databases import POSTGRES_ONLY

pytestmark = [pytest.mark.slow, POSTGRES_ONLY]  # one Kanbot process per SQLite file: several need PostgreSQL

QUIET_MS = 100
REPLY_S = 120.0  # a bound on a reply's arrival, never a wait: the reply is awaited itself
TAKEOVER_S = 10.0  # the standby polls the lock every 2 s; "within seconds" with room for a busy machine


@dataclass
class Seller:
    """One seller's part of the story: two deals made with /new, moved on their cards, and /deals."""

    chat: EmulatedChat
    user_id: int
    tag: str
    texts_sent: int = 0
    clicks: int = 0
    current: int = 0  # the message the next button press is on
    steps: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        first, second = f"Deal {self.tag}1", f"Deal {self.tag}2"
        self.steps = [
            *self.new_deal(first),
            lambda: self.click("Opportunity ▶", expect="Moved to Opportunity"),
            lambda: self.click("Commercial offer ▶", expect="Moved to Commercial offer"),
            *self.new_deal(second),
            lambda: self.send("/deals", expect="My deals"),
            lambda: self.click(second, expect=second),
            lambda: self.click("Opportunity ▶", expect="Moved to Opportunity"),
        ]

    def new_deal(self, title: str) -> list[Callable[[], Awaitable[None]]]:
        return [
            lambda: self.send(f"/new {title}", expect="Who is the customer?"),
            lambda: self.click("Skip", expect="Their phone number?"),
            lambda: self.click("Skip", expect="The amount?"),
            lambda: self.click("Skip", expect="Create it?"),
            lambda: self.click("Create", expect="Deal created"),
        ]

    async def send(self, text: str, *, expect: str) -> None:
        before = await self.shown()
        await self.chat.send(self.user_id, text, wait=False)
        self.texts_sent += 1
        self.current = (await self.reply(expect, before)).message_id

    async def click(self, label: str, *, expect: str) -> None:
        before = await self.shown()
        query = await self.chat.click(self.user_id, label, message_id=self.current, wait=False)
        self.clicks += 1
        await wait_for(lambda: self.chat.answer(query), timeout_s=REPLY_S, what=f"an answer to {label!r}")
        self.current = (await self.reply(expect, before)).message_id

    async def shown(self) -> set[tuple[int, str]]:
        return {(m.message_id, m.text) for m in await self.chat.bot_messages(self.user_id)}

    async def reply(self, containing: str, before: set[tuple[int, str]]) -> Msg:
        """The bot's reply (a new message, or an edit) with ``containing``, once it is there."""

        async def found() -> Msg | None:
            for msg in reversed(await self.chat.bot_messages(self.user_id)):
                if containing in plain(msg.text) and (msg.message_id, msg.text) not in before:
                    return msg
            return None

        msg: Msg = await wait_for(found, timeout_s=REPLY_S, what=f"a reply with {containing!r}")
        await self.chat.wait(quiet_ms=QUIET_MS, timeout_ms=int(REPLY_S * 1000))  # the rest of it, if any
        return msg


async def set_the_scene(crm: Crm, zone: str) -> dict[str, User]:
    """Everyone works in a zone where it is about noon; old deals have waited far past their follow-up."""
    people = {}
    for telegram_id in (BOSS, ALI, MARIA):
        user = await crm.users.identify(telegram_id)
        people[user.name] = await crm.users.update_preferences(actor=user, timezone=zone)
    await crm.followups.set_preferences(actor=people["Olga"], digest_time="23:59")  # due later, on purpose
    past = crm_at(crm, datetime.now(UTC) - timedelta(days=10))
    for seller, title in (("Ali", "Old boiler"), ("Ali", "Old pump"), ("Maria", "Old windows")):
        await past.deals.create(actor=people[seller], title=title)
    return people


async def outbox_rows(database_url: str) -> list[dict[str, object]]:
    return await rows(
        database_url,
        "SELECT o.id, o.kind, o.status, o.attempts, u.telegram_id FROM outbox o "
        "JOIN users u ON u.id = o.recipient_id ORDER BY o.id",
    )


async def all_sent(database_url: str, count: int) -> bool:
    items = await outbox_rows(database_url)
    return len(items) == count and all(item["status"] == "sent" for item in items)


async def the_leader(workers: list[KanbotProcess]) -> KanbotProcess | None:
    """The one worker whose /metrics says it leads (None while there is not exactly one)."""
    leading = [w for w in workers if w.running and await w.metric("kanbot_worker_leader") == 1]
    return leading[0] if len(leading) == 1 else None


@pytest.fixture(params=["aiogram", "ptb"])
def runtime(request: pytest.FixtureRequest) -> str:
    """The chat runtime of every process: the webhook and the outbox on PostgreSQL, on both."""
    return str(request.param)


@dataclass
class Scene:
    crm: Crm
    people: dict[str, User]
    zone: str


@pytest.fixture
async def scene(database_url: str, emulator: Emulator) -> AsyncIterator[Scene]:
    """The team (in the CRM and on Telegram) and its old deals, in place before any Kanbot process
    starts: the first tick finds them all, so what the first plans take in does not depend on when a
    worker ticks while the scene is set, and the plans find their chats."""
    zone = noon_zone()
    async with seeded_crm(database_url) as crm, aiohttp.ClientSession() as http:
        chat = EmulatedChat(emulator.url, http)
        for telegram_id, name in ((BOSS, "Olga"), (ALI, "Ali"), (MARIA, "Maria")):
            await chat.user(telegram_id, name, "en")
        yield Scene(crm, await set_the_scene(crm, zone), zone)


@pytest.fixture
async def cluster(
    database_url: str, emulator: Emulator, tmp_path: Path, runtime: str, scene: Scene
) -> AsyncIterator[tuple[RoundRobinProxy, list[KanbotProcess], list[KanbotProcess]]]:
    """Two web processes behind the round-robin proxy (the webhook) and two workers, all running."""
    proxy = await RoundRobinProxy([]).start()
    env = base_env(
        database_url,
        emulator.url,
        KANBOT_RUNTIME=runtime,
        KANBOT_WEBHOOK_URL=f"{proxy.url}/telegram/webhook",
        KANBOT_WEBHOOK_SECRET=SECRET,
        KANBOT_TICK_SECONDS="1",
        KANBOT_WORKING_DAYS="mon-sun",  # the test runs on weekends too; the hours come from the zone
    )
    webs = [KanbotProcess(f"web-{n}", ["serve", "--web"], env, tmp_path) for n in (1, 2)]
    workers = [KanbotProcess(f"worker-{n}", ["serve", "--worker"], env, tmp_path) for n in (1, 2)]
    proxy.backends = [web.url for web in webs]
    try:
        for process in [*webs, *workers]:
            process.start()
        await asyncio.gather(*(process.wait_ready() for process in [*webs, *workers]))
        yield proxy, webs, workers
    finally:
        await asyncio.gather(*(process.stop() for process in [*webs, *workers]))
        await proxy.stop()


async def test_every_update_and_notification_has_one_effect_when_the_leading_worker_is_killed(
    database_url: str,
    emulator: Emulator,
    scene: Scene,
    cluster: tuple[RoundRobinProxy, list[KanbotProcess], list[KanbotProcess]],
) -> None:
    proxy, webs, workers = cluster
    crm, people, zone = scene.crm, scene.people, scene.zone
    async with aiohttp.ClientSession() as http:
        chat = EmulatedChat(emulator.url, http)
        async with http.get(f"{emulator.url}/emulator/bots") as response:
            [bot] = await response.json()
        assert bot["webhook"] == proxy.url + "/telegram/webhook"

        # The first leader sends the morning plans, the old deals' reminders in them: one message each.
        leader = await wait_for(lambda: the_leader(workers), timeout_s=REPLY_S, what="one leading worker")
        standby = next(w for w in workers if w is not leader)
        await wait_for(lambda: all_sent(database_url, 2), timeout_s=REPLY_S, what="the first plans")
        assert await leader.metric("kanbot_messages_sent_total") == 2
        assert await standby.metric("kanbot_worker_leader") == 0

        # Two sellers use the bot; their updates alternate between the web processes.
        ali, maria = Seller(chat, ALI, "A"), Seller(chat, MARIA, "M")
        half = 7
        for ali_step, maria_step in zip(ali.steps[:half], maria.steps[:half], strict=True):
            await ali_step()
            await maria_step()

        leader.signal(signal.SIGKILL)  # mid-run: the sellers go on at once
        killed_at = time.monotonic()
        takeover = asyncio.create_task(
            wait_for(lambda: standby.metric("kanbot_worker_leader"), timeout_s=TAKEOVER_S, what="takeover")
        )
        for ali_step, maria_step in zip(ali.steps[half:], maria.steps[half:], strict=True):
            await ali_step()
            await maria_step()
        await takeover
        took_over_in = time.monotonic() - killed_at
        assert await leader.exit_code(within_s=5) == -signal.SIGKILL

        # Then more becomes due: a new stale deal, a task, the boss's digest. The standby sends them.
        maria_user, ali_user, boss = people["Maria"], people["Ali"], people["Olga"]
        past = crm_at(crm, datetime.now(UTC) - timedelta(days=10))
        await past.deals.create(actor=maria_user, title="Old heater")
        [deal_a1] = [d for d in await crm.deals.find(query="Deal A1", actor=ali_user) if d.title == "Deal A1"]
        await crm.tasks.add(
            deal_id=deal_a1.id, due_at=datetime.now(UTC) + timedelta(seconds=1), text="Send the offer",
            actor=ali_user,
        )  # fmt: skip
        local_now = datetime.now(ZoneInfo(zone)).strftime("%H:%M")
        await crm.followups.set_preferences(actor=boss, digest_time=local_now)
        await wait_for(lambda: all_sent(database_url, 5), timeout_s=REPLY_S, what="the outbox drained")
        assert await standby.metric("kanbot_messages_sent_total") == 3

        await check_every_update_had_one_effect(database_url, proxy, webs, chat, [ali, maria], crm)
        await check_every_notification_went_out_once(database_url, chat)
    print(f"the standby took over {took_over_in:.1f} s after the leader was killed")  # shown with -s
    assert took_over_in < TAKEOVER_S


async def check_every_update_had_one_effect(
    database_url: str,
    proxy: RoundRobinProxy,
    webs: list[KanbotProcess],
    chat: EmulatedChat,
    sellers: list[Seller],
    crm: Crm,
) -> None:
    updates = sum(s.texts_sent + s.clicks for s in sellers)
    assert updates == 30
    # Each update was posted once, taken with 200, and the two web processes took turns.
    assert [f.status for f in proxy.forwarded] == [200] * updates
    ids = [f.update_id for f in proxy.forwarded]
    assert len(set(ids)) == updates
    assert [f.backend for f in proxy.forwarded] == [n % 2 for n in range(updates)]
    handled = [metric_total((await web.get("/metrics"))[1], "kanbot_updates_total") for web in webs]
    assert handled == [updates / 2, updates / 2]
    ledger = await rows(database_url, "SELECT key, state FROM processed WHERE key LIKE 'u:%'")
    assert len(ledger) == updates and {r["state"] for r in ledger} == {"done"}

    # One deal per /new flow, one history event per move.
    deals = await rows(
        database_url,
        "SELECT d.title, count(DISTINCT d.id) AS deals, "
        "count(e.id) FILTER (WHERE e.kind = 'moved') AS moves, "
        "count(e.id) FILTER (WHERE e.kind = 'created') AS created "
        "FROM deals d LEFT JOIN deal_events e ON e.deal_id = d.id "
        "WHERE d.title LIKE 'Deal %' GROUP BY d.title ORDER BY d.title",
    )
    assert deals == [
        {"title": "Deal A1", "deals": 1, "moves": 2, "created": 1},
        {"title": "Deal A2", "deals": 1, "moves": 1, "created": 1},
        {"title": "Deal M1", "deals": 1, "moves": 2, "created": 1},
        {"title": "Deal M2", "deals": 1, "moves": 1, "created": 1},
    ]

    # One reply per action: a message per text and per "Skip", an edit per other press; every
    # press answered once.
    log = await chat.log()
    answers = [e for e in log if e["method"] == "answerCallbackQuery"]
    assert len(answers) == sum(s.clicks for s in sellers) and all(e["ok"] for e in answers)
    assert len({e["params"]["callback_query_id"] for e in answers}) == len(answers)
    for seller in sellers:
        edits = [
            e for e in log
            if e["method"] == "editMessageText" and int(e["params"]["chat_id"]) == seller.user_id
        ]  # fmt: skip
        assert len(edits) == seller.clicks - 6 and all(e["ok"] for e in edits)
        replies = [m for m in await chat.bot_messages(seller.user_id) if not is_notification(m)]
        assert len(replies) == seller.texts_sent + 6


def is_notification(msg: Msg) -> bool:
    return msg.text.startswith(("⏰", "☀️", "🗞", "📊"))


async def check_every_notification_went_out_once(database_url: str, chat: EmulatedChat) -> None:
    items = await outbox_rows(database_url)
    assert Counter((i["telegram_id"], i["kind"]) for i in items) == {
        (ALI, "morning_plan"): 1,
        (ALI, "task_due"): 1,
        (MARIA, "stale_reminder"): 1,
        (MARIA, "morning_plan"): 1,
        (BOSS, "digest"): 1,
    }
    assert {(i["status"], i["attempts"]) for i in items} == {("sent", 1)}

    async def notes(user_id: int) -> list[str]:
        return [plain(m.text) for m in await chat.bot_messages(user_id) if is_notification(m)]

    def heads(texts: list[str]) -> list[str]:
        return sorted(t.splitlines()[0] for t in texts)

    ali_notes = await notes(ALI)
    assert heads(ali_notes) == ["⏰ Due now: Send the offer", "☀️ Good morning, Ali! Your day:"], ali_notes
    [ali_plan] = [t for t in ali_notes if t.startswith("☀️")]
    assert "Old boiler" in ali_plan and "Old pump" in ali_plan  # the reminder of both, in the plan
    maria_notes = await notes(MARIA)
    assert len(maria_notes) == 2 and heads(maria_notes)[1] == "☀️ Good morning, Maria! Your day:"
    [maria_plan] = [t for t in maria_notes if t.startswith("☀️")]
    [reminder] = [t for t in maria_notes if t.startswith("⏰")]  # the deal gone stale after the plan
    assert "Old windows" in maria_plan and "Old heater" in reminder and "Old windows" not in reminder
    boss_notes = await notes(BOSS)
    assert len(boss_notes) == 2 and boss_notes[0].startswith("🗞") and boss_notes[1].startswith("📊")
