"""Random chat sessions: a boss, two sellers and a stranger send random messages and press random
buttons — real ones, forged ones, ones naming other people's deals — in very long, Arabic, emoji and
HTML-like text, against the real bot through the emulator.

Afterwards: every button press was answered; no update ended in the bot's "something went wrong"; the
bot made no call Telegram refused (except the edits it handles: "not modified", a message gone); no
seller's chat shows a deal they could never see, the stranger's shows none; and the history shows no
change by anyone who was not allowed to make it. A failing run prints its seed
(``KANBOT_FUZZ_SEED=<seed>`` replays it).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import string
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from sqlalchemy import text

from bot.core import actions, codec
from bot.core.features.menu import labels
from bot.core.i18n import Tr
from crm_core.domain.history import EventKind
from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, BOT_ID, MARIA, STRANGER, EmulatedChat, RunningKanbot, b36
from tests.reliability.nothing_lost import (
    TALLY,
    outbox_settled,
    presses_answered,
    reminders_once,
    updates_handled_once,
)

QUICK_STEPS = 70
LONG_STEPS = int(os.environ.get("KANBOT_FUZZ_STEPS", "1500"))
USERS = (BOSS, ALI, MARIA, STRANGER)
SELLERS = (ALI, MARIA)
HANDLED_REFUSALS = ("message is not modified", "message to edit not found", "message can't be edited")
TRICKY = [
    "مرحبا، أريد عرض سعر لعشرين هاتفًا",
    "غدًا 10:00",
    "Привет! Нужна АТС на 20 номеров",
    "🚀🔥💰 deal 🤝🏽 👨‍👩‍👧‍👦",
    "<b>bold</b> <i>x</i> <a href='javascript:alert(1)'>click</a> <script>alert(1)</script> &amp; &lt;",
    "</code></pre><pre>",
    "\u202eevil\u202c \u200f\u200e \u200b",
    "Tom & Jerry <tom@example.com>",
    "1 500,50",
    "+7 495 123-45-67",
    "8 (916) 000-00-00",
    "in 2h",
    "25.12 15:00",
    "-5",
    "0",
    "99999999999999999999",
    "/",
    "//start",
    "@emulator_bot",
    "NUL\x00inside",
]
COMMANDS = [
    "/start", "/menu", "/deals", "/board", "/new", "/new Fuzzed order", "/find", "/find ACME", "/tasks",
    "/report", "/report 7d", "/team", "/invite", "/help", "/digest", "/lang ar", "/lang ru", "/lang en",
    "/cancel", "/nosuchcommand", "/start deal_1", "/start inv_xxxxxxxx", "/new " + "x" * 300,
]  # fmt: skip


@dataclass
class Run:
    """One fuzzing session and what it saw."""

    rng: random.Random
    chat: EmulatedChat
    crm: Crm
    secret_titles: dict[int, str]  # deal id -> a title no one types
    queries: list[str] = field(default_factory=list)
    updates: set[int] = field(default_factory=set)
    steps: int = 0

    async def step(self) -> None:
        self.steps += 1
        user = self.rng.choice(USERS)
        roll = self.rng.random()
        if roll < 0.30:
            await self.chat.send(user, self.text(user))
        elif roll < 0.65:
            await self.press_real(user)
        elif roll < 0.90:
            await self.press_forged(user)
        elif roll < 0.95:
            await self.chat.share_contact(
                user, self.rng.choice(["+74951234567", "+1 202 555 0143", "garbage"])
            )
        else:
            await self.chat.send(user, self.rng.choice(list(labels(Tr(self.rng.choice(["en", "ru", "ar"]))))))
        if self.chat.last_update_id is not None:
            self.updates.add(self.chat.last_update_id)

    def text(self, user: int) -> str:
        """Something a user might type (Telegram never sends an empty or blank message)."""
        typed = self._text()
        return typed if typed.strip() else typed + "."

    def _text(self) -> str:
        kind = self.rng.random()
        if kind < 0.35:
            return self.rng.choice(COMMANDS)
        if kind < 0.75:
            return self.rng.choice(TRICKY)
        if kind < 0.85:  # long: up to past Telegram's 4096
            return "".join(self.rng.choice(TRICKY) + " " for _ in range(self.rng.randint(20, 200)))[:4096]
        return "".join(self.rng.choice(string.printable + "йعß€") for _ in range(self.rng.randint(1, 40)))

    async def press_real(self, user: int) -> None:
        messages = [m for m in (await self.chat.bot_messages(user))[-4:] if m.buttons]
        buttons = [
            (m.message_id, b["text"])
            for m in messages
            for row in m.buttons
            for b in row
            if b.get("callback_data")
        ]
        if not buttons:
            await self.chat.send(user, self.rng.choice(["/deals", "/board", "/tasks"]))
            return
        message_id, label = self.rng.choice(buttons)
        self.queries.append(await self.chat.click(user, label, message_id=message_id))
        TALLY.count("chat presses (real buttons)")

    async def press_forged(self, user: int) -> None:
        messages = await self.chat.bot_messages(user)
        if not messages:
            await self.chat.send(user, "/start")
            return
        self.queries.append(await self.chat.press_data(user, messages[-1].message_id, await self.forgery()))
        TALLY.count("chat presses (forged data)")

    async def forgery(self) -> str:
        roll = self.rng.random()
        if roll < 0.2:
            return self.rng.choice(["", "x" * 64, "\x00\x01", "💥" * 16, "1", "1nx", "1nx:zz:zz", "2nx:1:1"])
        action = self.rng.choice(sorted(actions.ACTIONS, key=lambda a: a.code))
        deal_ids = [*self.secret_titles, 0, 10**6]
        args = [
            self.rng.choice([*deal_ids, self.rng.randint(0, 40)])
            if kind == "i"
            else self.rng.choice(["l", "n", "w", "1h", "title", "high", "seller", "7d", "", "-x"])
            for kind in action.kinds
        ]
        try:
            return codec.encode(action(*args))
        except ValueError:
            return (
                VERSION_PREFIX
                + action.code
                + "".join(f":{b36(a) if isinstance(a, int) else a}" for a in args)
            )


VERSION_PREFIX = codec.VERSION


async def scene(crm: Crm) -> dict[int, str]:
    """Each seller and the boss own deals whose titles carry a token nobody types."""
    titles: dict[int, str] = {}
    for telegram_id, name in ((ALI, "Ali"), (MARIA, "Maria"), (BOSS, "Olga")):
        owner = await crm.users.identify(telegram_id)
        for stage in ("Unsorted", "Opportunity", "Execution"):
            title = f"{name}-{secrets.token_hex(4)}"
            deal = await crm.deals.create(actor=owner, title=title, amount="1000", stage=stage)
            titles[deal.id] = title
    return titles


async def fuzz(chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot, steps: int) -> None:
    seed = int(os.environ.get("KANBOT_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
    outcomes: list[str] = []
    assert kanbot.kanbot is not None
    kanbot.kanbot.chat.observers.append(lambda event, outcome, seconds: outcomes.append(outcome))
    run = Run(random.Random(seed), chat, crm, await scene(crm))
    TALLY.cases += 1
    try:
        for _ in range(steps):
            await run.step()
        await chat.wait()
        await check(run, chat, crm, outcomes)
    except BaseException:
        print(f"chat fuzz failed: replay with KANBOT_FUZZ_SEED={seed}")
        raise
    TALLY.count("chat fuzz steps", run.steps)


async def check(run: Run, chat: EmulatedChat, crm: Crm, outcomes: list[str]) -> None:
    await presses_answered({q: await chat.answer(q) for q in run.queries})
    await updates_handled_once(crm.db, bot_id=BOT_ID, update_ids=run.updates)
    assert "error" not in outcomes, f"{outcomes.count('error')} updates ended in 'something went wrong'"
    refused = [
        (e["method"], e["error"])
        for e in await chat.log()
        if 400 <= e["status"] < 500
        and e["status"] != 429
        and not any(h in e["error"] for h in HANDLED_REFUSALS)
    ]
    assert not refused, f"Telegram would refuse: {refused[:5]}"
    assert not [e for e in await chat.log() if e["status"] >= 500]
    owners, unowned_inbox = await ownership(crm)
    people = {u.telegram_id: u.id for u in await crm.users.list()}
    for user in (*SELLERS, STRANGER):
        shown = " ".join(m.text + " " + " ".join(m.button_texts) for m in await chat.bot_messages(user))
        for deal_id, title in run.secret_titles.items():
            if title in shown:
                allowed = user in SELLERS and (people[user] in owners[deal_id] or deal_id in unowned_inbox)
                assert allowed, f"{user} saw deal {deal_id} ({title}) they could never see"
    await changes_by_the_allowed_only(crm, people)
    await outbox_settled(crm.db, allow_pending=True, allow_given_up=("deal_assigned",))
    await reminders_once(crm.db)


async def ownership(crm: Crm) -> tuple[dict[int, set[int]], set[int]]:
    """Who ever owned each deal, and which deals were ever unowned in the inbox (any seller sees those)."""
    owners: dict[int, set[int]] = defaultdict(set)
    unowned: set[int] = set()
    async with crm.db.engine.connect() as conn:
        inbox = await conn.scalar(text("SELECT id FROM stages WHERE kind = 'inbox'"))
        rows = await conn.execute(
            text("SELECT id, kind, data, to_stage_id, deal_id FROM deal_events ORDER BY id")
        )
        stage: dict[int, int] = {}
        for row in rows:
            data = row.data if isinstance(row.data, dict) else json.loads(row.data)
            if row.kind == EventKind.CREATED:
                stage[row.deal_id] = row.to_stage_id
                if data.get("owner") is not None:
                    owners[row.deal_id].add(data["owner"])
                elif row.to_stage_id == inbox:
                    unowned.add(row.deal_id)
            elif row.to_stage_id is not None:
                stage[row.deal_id] = row.to_stage_id
            if row.kind == EventKind.REASSIGNED:
                if data.get("to_owner") is not None:
                    owners[row.deal_id].add(data["to_owner"])
                elif stage.get(row.deal_id) == inbox:
                    unowned.add(row.deal_id)
        for deal_id, owner, stage_id in await conn.execute(text("SELECT id, owner_id, stage_id FROM deals")):
            if owner is None and stage_id == inbox:
                unowned.add(deal_id)
    return owners, unowned


async def changes_by_the_allowed_only(crm: Crm, people: dict[int, int]) -> None:
    """Every change a seller made was to a deal they owned then (or the taking of an unowned one)."""
    sellers = {people[t] for t in SELLERS}
    owner: dict[int, int | None] = {}
    async with crm.db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT deal_id, kind, actor_id, data FROM deal_events ORDER BY id"))
        for row in rows:
            data = row.data if isinstance(row.data, dict) else json.loads(row.data)
            if row.kind == EventKind.CREATED:
                owner[row.deal_id] = data.get("owner")
                continue
            took = row.kind == EventKind.REASSIGNED and owner.get(row.deal_id) is None
            if row.actor_id in sellers and not took:
                assert owner.get(row.deal_id) == row.actor_id, (
                    f"seller {row.actor_id} changed deal {row.deal_id} ({row.kind}), "
                    f"owned by {owner.get(row.deal_id)}"
                )
            if row.kind == EventKind.REASSIGNED:
                owner[row.deal_id] = data.get("to_owner")


async def test_random_chat_sessions_leave_nothing_unanswered_refused_or_leaked(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await fuzz(chat, crm, kanbot, QUICK_STEPS)


async def test_nul_characters_in_texts_names_and_contacts_are_handled_not_an_error(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    """PostgreSQL stores no NUL: a title, a search or a name with one was "something went wrong"."""
    outcomes: list[str] = []
    assert kanbot.kanbot is not None
    kanbot.kanbot.chat.observers.append(lambda event, outcome, seconds: outcomes.append(outcome))
    await chat.send(ALI, "/new Title\x00with a NUL")
    await chat.send(ALI, "Nina\x00")
    await chat.share_contact(ALI, "+7 495 123-45-67\x00", first_name="Ni\x00na")
    await chat.send(ALI, "/find Ti\x00tle")
    await chat.user(STRANGER, "Eve\x00")
    await chat.send(STRANGER, "hello\x00")
    TALLY.cases += 1
    assert "error" not in outcomes, outcomes
    # the dialog is still going (no deal yet), and it went on without an error
    assert await crm.deals.find(query="Titlewith", actor=await crm.users.identify(ALI)) == []


@pytest.mark.reliability
async def test_long_random_chat_sessions_leave_nothing_unanswered_refused_or_leaked(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await fuzz(chat, crm, kanbot, LONG_STEPS)
