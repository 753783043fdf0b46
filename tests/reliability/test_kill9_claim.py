"""A press claimed by a process that is then ``kill -9``-ed: after the restart its redelivery is
handled at once (no 60 s lease waited out), and once.

A real process claims the update in the handled-updates ledger (as a Kanbot process does when the
press arrives) and is killed with SIGKILL before it can do anything more; Kanbot then starts and
Telegram delivers the press. It was ignored as "still in progress" (no move, no answer) until the
claim's lease ran out.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from crm_core.domain.history import EventKind
from crm_core.services import Crm
from tests.e2e.harness import ALI, BOT_ID, EmulatedChat, RunningKanbot
from tests.reliability.nothing_lost import TALLY, presses_answered, updates_handled_once

CLAIMER = """
import asyncio, sys
from datetime import timedelta
from crm_core.adapters.database import Database
from crm_core.services import Crm

async def main():
    crm = Crm(Database(sys.argv[1]))
    arrival = await crm.ledger.arrive(
        sys.argv[2], telegram_id=int(sys.argv[3]), window=timedelta(seconds=10), prefix="u:"
    )
    print(arrival.claim.value, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def claim_then_die(database_url: str, key: str, telegram_id: int) -> None:
    """Another process claims ``key`` and is killed with SIGKILL right after."""
    claimer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLAIMER, database_url, key, str(telegram_id), stdout=asyncio.subprocess.PIPE
    )
    assert claimer.stdout is not None
    try:
        said = await asyncio.wait_for(claimer.stdout.readline(), timeout=60)
        assert said.strip() == b"new", said
    finally:
        os.kill(claimer.pid, signal.SIGKILL)
        await claimer.wait()
    TALLY.fault("kill -9 holding a claim")


async def test_a_press_claimed_by_a_killed_process_is_handled_at_once_after_the_restart(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot, database_url: str
) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="Claimed then killed", stage="Opportunity")
    await chat.send(ALI, "/find Claimed then killed")
    await chat.click(ALI, "Claimed then killed")
    card = await chat.last(ALI)
    await kanbot.stop()
    pressed = await chat._act(
        ALI, "/clicks", {"user_id": ALI, "message_id": card.message_id, "button": card.button("▶")["text"]}
    )
    update_id = int(pressed["update_id"])
    await claim_then_die(database_url, f"u:{BOT_ID}:{update_id}", ALI)

    await kanbot.start()  # its first getUpdates brings the press
    await chat.wait()
    answer = await chat.answer(str(pressed["callback_query_id"]))
    await presses_answered({str(pressed["callback_query_id"]): answer})
    assert "Commercial offer" in (await chat.message(ALI, card.message_id)).text, "the card redrawn"
    moved = await crm.deals.get(deal_id=deal.id, actor=ali)
    assert (moved.stage.name, moved.version) == ("Commercial offer", deal.version + 1), moved
    await chat.redeliver(update_id)  # and Telegram delivering it once more changes nothing
    history = await crm.deals.history(deal_id=deal.id, actor=ali)
    assert [e.kind for e in history].count(EventKind.MOVED) == 1
    await updates_handled_once(crm.db, bot_id=BOT_ID, update_ids=[update_id])
    TALLY.cases += 1
