"""SIGTERM to a real ``kanbot run`` in the middle of work: a quick clean exit, and nothing lost or doubled.

Updates are arriving and being handled, notifications are queued, and Telegram (the emulator) is slow
and answers 429. The process must exit with code 0 within ten seconds; after a restart every update
sent before the signal has had exactly one effect and every queued notification went out once.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import aiohttp
import pytest

from crm_core.domain.deals import Deal
from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import ALI, BOSS, MARIA, EmulatedChat
from tests.ops.support import KanbotProcess, base_env, plain, rows, wait_for

pytestmark = pytest.mark.slow  # two real processes per case, each a few seconds to start

GRACE_S = 10.0
SELLERS = (ALI, MARIA)
NUDGE = "asks you to follow up on this deal"


async def sellers_deals(crm: Crm, per_seller: int) -> list[Deal]:
    """Deals of every seller, made before the work starts: the nudges about them are then quick to queue."""
    deals = []
    for seller_id in SELLERS:
        seller = await crm.users.identify(seller_id)
        for n in range(per_seller):
            deals.append(await crm.deals.create(actor=seller, title=f"Deal {seller_id}-{n}"))
    return deals


async def queue_nudges(crm: Crm, deals: list[Deal]) -> list[str]:
    """The boss nudges every seller about each of their deals: notifications waiting in the outbox."""
    boss = await crm.users.identify(BOSS)
    for deal in deals:
        await crm.followups.nudge(deal_id=deal.id, actor=boss)
    return [deal.title for deal in deals]


async def find_replies(chat: EmulatedChat, user_id: int, token: str) -> int:
    return sum(f"«{token}»" in plain(m.text) for m in await chat.bot_messages(user_id))


# The runtime's shutdown does not depend on the database: aiogram's is checked on SQLite.
@pytest.mark.parametrize(
    ("runtime", "database_url"),
    [
        ("ptb", "sqlite"),
        pytest.param("ptb", "postgresql", marks=pytest.mark.postgres),
        ("aiogram", "sqlite"),
    ],
    indirect=["database_url"],
)
async def test_sigterm_mid_work_exits_0_within_ten_seconds_and_a_restart_loses_and_doubles_nothing(
    database_url: str, emulator: Emulator, crm: Crm, tmp_path: Path, runtime: str
) -> None:
    env = base_env(database_url, emulator.url, KANBOT_RUNTIME=runtime)
    deals = await sellers_deals(crm, per_seller=4)
    first = KanbotProcess("run-1", ["run"], env, tmp_path).start()
    try:
        await first.wait_ready()
        async with aiohttp.ClientSession() as http:
            chat = EmulatedChat(emulator.url, http)
            for user_id, name in ((BOSS, "Olga"), (ALI, "Ali"), (MARIA, "Maria")):
                await chat.user(user_id, name, "en")
            await chat.wait(quiet_ms=200)  # polling, commands registered

            # Updates arrive; Telegram answers their replies with 429 (retry after 3 s)...
            await chat.faults("sendMessage", 429, count=8, retry_after=3)
            sent_before: dict[str, int] = {}
            for n in range(8):
                user_id = SELLERS[n % 2]
                token = f"q{n:02d}"
                await chat.send(user_id, f"/find {token}", wait=False)
                sent_before[token] = user_id
            await wait_for(
                lambda: handling(database_url, chat, sent_before), timeout_s=20, what="updates in handlers"
            )
            # ...while queued notifications go out to a Telegram that answers slowly.
            slow = {"method": "sendMessage", "delay_s": 1, "count": 8}
            await post(http, emulator, "/emulator/faults", slow)
            titles = await queue_nudges(crm, deals)  # while the handlers wait out their 429s
            await wait_for(
                lambda: sending_started(database_url, chat, sent_before),
                timeout_s=20,
                what="the bot to be handling updates and sending notifications",
            )

            first.signal(signal.SIGTERM)
            signalled_at = time.monotonic()
            code = await first.exit_code(within_s=GRACE_S + 5)
            took = time.monotonic() - signalled_at
            assert code == 0, f"exit code {code} after {took:.1f} s:\n{first.output()}"
            assert took <= GRACE_S, f"exited after {took:.1f} s:\n{first.output()}"

            # Telegram keeps what came after the signal for the next process.
            for n, user_id in enumerate(SELLERS):
                await chat.send(user_id, f"/find late{n}", wait=False)
            await post(http, emulator, "/emulator/faults", None, method="DELETE")
            second = KanbotProcess("run-2", ["run"], env, tmp_path).start()
            try:
                await second.wait_ready()
                await wait_for(
                    lambda: everything_delivered(database_url, chat, sent_before, len(titles)),
                    timeout_s=90,
                    what="every update answered and every notification sent after the restart",
                )
                second.signal(signal.SIGTERM)
                assert await second.exit_code(within_s=GRACE_S) == 0, second.output()
            finally:
                await second.stop()

            for token, user_id in sent_before.items():
                assert await find_replies(chat, user_id, token) == 1, token
            for n, user_id in enumerate(SELLERS):
                assert await find_replies(chat, user_id, f"late{n}") == 1
            ledger = await rows(database_url, "SELECT key, state FROM processed WHERE key LIKE 'u:%'")
            assert len(ledger) == len(sent_before) + 2 and {r["state"] for r in ledger} == {"done"}
            outbox = await rows(
                database_url, "SELECT status, attempts, claimed_until FROM outbox WHERE kind = 'nudge'"
            )
            assert outbox == [{"status": "sent", "attempts": 1, "claimed_until": None}] * len(titles)
            nudges = [plain(m.text) for u in SELLERS for m in await chat.bot_messages(u) if NUDGE in m.text]
            assert sorted(t for t in titles for m in nudges if t in m) == sorted(titles)
    finally:
        await first.stop()


async def post(
    http: aiohttp.ClientSession, emulator: Emulator, path: str, body: object, *, method: str = "POST"
) -> None:
    async with http.request(method, emulator.url + path, json=body) as response:
        assert response.status == 200, await response.text()


async def handling(database_url: str, chat: EmulatedChat, sent: dict[str, int]) -> bool:
    """An update is in a handler's hands right now: taken (in the ledger), its reply not yet shown."""
    taken = await rows(database_url, "SELECT key FROM processed WHERE key LIKE 'u:%'")
    answered = [token for token, user_id in sent.items() if await find_replies(chat, user_id, token)]
    return len(taken) > len(answered)


async def sending_started(database_url: str, chat: EmulatedChat, sent: dict[str, int]) -> bool:
    """Both kinds of work are under way: updates are being handled, notifications are being sent."""
    sending = await rows(
        database_url, "SELECT id FROM outbox WHERE status = 'sent' OR claimed_until IS NOT NULL"
    )
    return bool(sending) and await handling(database_url, chat, sent)


async def everything_delivered(
    database_url: str, chat: EmulatedChat, sent_before: dict[str, int], notifications: int
) -> bool:
    outbox = await rows(database_url, "SELECT status FROM outbox WHERE kind = 'nudge'")
    if [r["status"] for r in outbox] != ["sent"] * notifications:
        return False
    for token, user_id in [*sent_before.items(), ("late0", ALI), ("late1", MARIA)]:
        if not await find_replies(chat, user_id, token):
            return False
    return True
