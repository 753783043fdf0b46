"""A flood of updates: each is handled exactly once, and never more than KANBOT_MAX_CONCURRENT_UPDATES at
once (pooled connections and handlers' objects stay few, and so does the memory a process keeps)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import ALI, BOSS, MARIA, EmulatedChat, RunningKanbot, settings_for, visible

LIMIT = 3
SENDERS = (BOSS, ALI, MARIA)
PER_SENDER = 8  # under the bot's flood limit (20 in ten seconds) and the harness's pacing (15)


@pytest.fixture
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, runtime: str
) -> AsyncIterator[RunningKanbot]:
    """``kanbot run`` polling the emulator, handling at most ``LIMIT`` updates at once."""
    settings = settings_for(database_url, emulator.url, runtime)
    settings.telegram.max_concurrent_updates = LIMIT
    running = RunningKanbot(settings)
    await running.start()
    yield running
    await running.stop()


async def metrics(kanbot: RunningKanbot) -> dict[str, float]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(kanbot.http_url + "/metrics") as response,
    ):
        body = await response.text()
    return {s.name: s.value for f in text_string_to_metric_families(body) for s in f.samples}


async def test_a_flood_of_updates_is_handled_once_each_never_more_than_the_limit_at_once(
    kanbot: RunningKanbot, chat: EmulatedChat
) -> None:
    assert kanbot.kanbot is not None
    gate = kanbot.kanbot.runtime.updates
    core = kanbot.kanbot.chat
    handle, held = core.handle, []
    release = asyncio.Event()

    async def held_until_released(event: Any, **options: Any) -> Any:
        """Every update waits in the chat core until the test lets them all go."""
        held.append(event.update_id)
        await release.wait()
        return await handle(event, **options)

    core.handle = held_until_released  # type: ignore[method-assign]
    sent = {}
    for n in range(PER_SENDER):
        for user_id in SENDERS:
            token = f"q{user_id}x{n}"
            sent[token] = user_id
            await chat.send(user_id, f"/find {token}", wait=False)

    async def the_limit_is_reached() -> bool:
        return gate.in_flight == LIMIT and len(held) == LIMIT

    await chat.wait_until(the_limit_is_reached, what=f"{LIMIT} updates in the chat core's hands")
    during = await metrics(kanbot)
    assert during["kanbot_updates_in_flight"] == LIMIT
    assert during["kanbot_updates_in_flight_limit"] == LIMIT
    release.set()

    async def all_answered() -> bool:
        return gate.handled == len(sent) and gate.in_flight == 0

    await chat.wait_until(all_answered, timeout_s=60, what="every update to be handled")
    await chat.wait()
    for token, user_id in sent.items():
        replies = [m for m in await chat.bot_messages(user_id) if f"«{token}»" in visible(m.text)]
        assert len(replies) == 1, (token, [m.text for m in replies])
    assert sorted(held) == sorted(set(held)) and len(held) == len(sent)  # no update taken twice
    assert gate.most_in_flight == LIMIT
    assert (await metrics(kanbot))["kanbot_updates_in_flight_max"] == LIMIT
