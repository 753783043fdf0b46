"""The HTTP side an operator and Telegram see: health, readiness, metrics, and the webhook's secret."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import (
    ALI,
    BOT_ID,
    WEBHOOK_PATH,
    EmulatedChat,
    RunningKanbot,
    call_body,
    post_call,
    seeded_crm,
    webhook_settings,
)
from tests.ops.support import SECRET, metric_total, rows, schema_behind, wait_for
from tests.support.databases import POSTGRES_ONLY
from tests.support.network import TcpProxy, free_port

WEBHOOK = WEBHOOK_PATH
DOCUMENTED = {
    "kanbot_updates": "counter",
    "kanbot_update_seconds": "histogram",
    "kanbot_outbox_pending": "gauge",
    "kanbot_outbox_oldest_pending_seconds": "gauge",
    "kanbot_messages_sent": "counter",
    "kanbot_telegram_429": "counter",
    "kanbot_calls_ingested": "counter",
    "kanbot_followups_queued": "counter",
    "kanbot_notifications_sent": "counter",
    "kanbot_database_errors": "counter",
    "kanbot_worker_leader": "gauge",
    "kanbot_updates_in_flight": "gauge",
    "kanbot_updates_in_flight_max": "gauge",
    "kanbot_updates_in_flight_limit": "gauge",
}


async def start_kanbot(database_url: str, emulator_url: str, runtime: str = "ptb") -> RunningKanbot:
    """``kanbot run`` in webhook mode: Telegram (the emulator) posts updates to its own HTTP port."""
    settings = webhook_settings(database_url, emulator_url, port=free_port(), secret=SECRET, runtime=runtime)
    kanbot = RunningKanbot(settings)
    await kanbot.start()
    return kanbot


@pytest.fixture(params=["ptb"])
async def kanbot(
    request: pytest.FixtureRequest, crm: Crm, database_url: str, emulator: Emulator
) -> AsyncIterator[RunningKanbot]:
    """Kanbot in webhook mode on the default runtime; a test parametrizes ``kanbot`` indirectly for both."""
    running = await start_kanbot(database_url, emulator.url, runtime=request.param)
    yield running
    await running.stop()


BOTH_RUNTIMES = pytest.mark.parametrize("kanbot", ["ptb", "aiogram"], indirect=True)


@pytest.fixture
async def chat(kanbot: RunningKanbot, emulator: Emulator) -> AsyncIterator[EmulatedChat]:
    async with aiohttp.ClientSession() as http:
        users = EmulatedChat(emulator.url, http)
        await users.user(ALI, "Ali")
        yield users


async def get(kanbot: RunningKanbot, path: str) -> tuple[int, str, Mapping[str, str]]:
    async with aiohttp.ClientSession() as http, http.get(kanbot.http_url + path) as response:
        return response.status, await response.text(), response.headers


async def scrape(kanbot: RunningKanbot) -> str:
    status, body, _ = await get(kanbot, "/metrics")
    assert status == 200
    return body


def an_update(update_id: int, text: str, user_id: int = ALI) -> dict[str, Any]:
    """A private message as Telegram posts it to a webhook."""
    sender = {"id": user_id, "is_bot": False, "first_name": "Ali", "language_code": "en"}
    message = {
        "message_id": 1,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": "Ali"},
        "from": sender,
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


async def post_raw(port: int, body: bytes, secret_header: bytes | None) -> int:
    """POST to the webhook over a bare socket, so any bytes can go in the secret header; the status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [
        f"POST {WEBHOOK} HTTP/1.1".encode(),
        b"Host: 127.0.0.1",
        b"Content-Type: application/json",
        f"Content-Length: {len(body)}".encode(),
        b"Connection: close",
    ]
    if secret_header is not None:
        head.append(b"X-Telegram-Bot-Api-Secret-Token: " + secret_header)
    writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


async def handled(database_url: str, update_id: int) -> bool:
    key = f"u:{BOT_ID}:{update_id}"
    return bool(await rows(database_url, "SELECT key FROM processed WHERE key = :key", key=key))


async def test_healthz_says_the_process_is_alive(kanbot: RunningKanbot) -> None:
    status, body, _ = await get(kanbot, "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})


async def test_readyz_is_ready_on_a_current_schema_and_503_while_a_migration_is_pending(
    kanbot: RunningKanbot, database_url: str
) -> None:
    status, body, _ = await get(kanbot, "/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ready"})
    async with schema_behind(database_url):
        status, body, _ = await get(kanbot, "/readyz")
        assert (status, json.loads(body)) == (
            503,
            {"status": "unavailable", "database": "migrations pending"},
        )
        assert (await get(kanbot, "/healthz"))[0] == 200  # alive, just not ready
    assert (await get(kanbot, "/readyz"))[0] == 200


@POSTGRES_ONLY  # SQLite is a file in the process: it cannot become unreachable over the network
async def test_readyz_is_503_while_the_database_is_unreachable_and_200_when_it_is_back(
    database_url: str, emulator: Emulator
) -> None:
    relay = await TcpProxy.to(database_url).start()
    relayed = relay.url_through(database_url)
    async with seeded_crm(database_url):
        kanbot = await start_kanbot(relayed, emulator.url)
        try:
            assert (await get(kanbot, "/readyz"))[0] == 200
            await relay.cut()
            status, body, _ = await get(kanbot, "/readyz")
            assert status == 503 and json.loads(body)["status"] == "unavailable", body
            assert (await get(kanbot, "/healthz"))[0] == 200
            await relay.start()
            await wait_for(
                lambda: _ready(kanbot), timeout_s=10, what="/readyz to be 200 again with the database back"
            )
        finally:
            await relay.start()
            await kanbot.stop()
            await relay.close()


async def _ready(kanbot: RunningKanbot) -> bool:
    return (await get(kanbot, "/readyz"))[0] == 200


async def test_metrics_are_prometheus_text_with_every_documented_metric(kanbot: RunningKanbot) -> None:
    status, body, headers = await get(kanbot, "/metrics")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = {f.name: f.type for f in text_string_to_metric_families(body)}
    assert {name: families.get(name) for name in DOCUMENTED} == DOCUMENTED
    for line in (
        "kanbot_worker_leader 1.0",
        "kanbot_outbox_pending 0.0",
        "kanbot_messages_sent_total 0.0",
        "kanbot_updates_in_flight_limit 16.0",
    ):
        assert line in body.splitlines(), line


async def test_the_counters_move_after_an_update_and_a_call(
    kanbot: RunningKanbot, chat: EmulatedChat
) -> None:
    before = await scrape(kanbot)
    assert metric_total(before, "kanbot_updates_total") == 0
    await chat.send(ALI, "/deals")
    after = await scrape(kanbot)
    assert 'kanbot_updates_total{kind="command",outcome="ok"} 1.0' in after.splitlines()
    assert 'kanbot_update_seconds_count{kind="command"} 1.0' in after.splitlines()

    await post_call(kanbot.http_url, call_body("ops-1"))
    lines = (await scrape(kanbot)).splitlines()
    assert 'kanbot_calls_ingested_total{provider="generic",result="created",status="missed"} 1.0' in lines
    await chat.wait_until(
        lambda: _sent_at_least(kanbot, 1), what="the missed-call notice to go out through the outbox"
    )
    assert 'kanbot_notifications_sent_total{kind="call_missed"} 1.0' in (await scrape(kanbot)).splitlines()


async def _sent_at_least(kanbot: RunningKanbot, count: int) -> bool:
    sent = 0.0
    for line in (await scrape(kanbot)).splitlines():
        if line.startswith("kanbot_messages_sent_total "):
            sent = float(line.split()[1])
    return sent >= count


@BOTH_RUNTIMES
@pytest.mark.parametrize(
    "secret_header",
    [
        pytest.param(b"wrong-secret", id="wrong"),
        pytest.param(None, id="missing"),
        pytest.param(b"", id="empty"),
        pytest.param(SECRET.encode() + b"x", id="longer"),
        pytest.param("секрет".encode(), id="non-ascii-utf8"),
        pytest.param(b"\xff\xfe" + SECRET.encode()[2:], id="not-utf8"),
    ],
)
async def test_a_wrong_or_missing_webhook_secret_is_401_and_changes_nothing(
    kanbot: RunningKanbot, database_url: str, secret_header: bytes | None
) -> None:
    update = an_update(990_001, "/new Forged deal")
    status = await post_raw(kanbot.settings.server.http_port, json.dumps(update).encode(), secret_header)
    assert status == 401
    assert not await handled(database_url, 990_001)
    assert await rows(database_url, "SELECT subject_id FROM dialogs") == []
    assert metric_total(await scrape(kanbot), "kanbot_updates_total") == 0


@BOTH_RUNTIMES
async def test_the_right_secret_is_200_and_the_update_is_handled(
    kanbot: RunningKanbot, chat: EmulatedChat, database_url: str
) -> None:
    body = json.dumps(an_update(990_002, "/new Real deal")).encode()
    assert await post_raw(kanbot.settings.server.http_port, body, SECRET.encode()) == 200
    assert await handled(database_url, 990_002)
    [dialog] = await rows(database_url, "SELECT subject_id, flow FROM dialogs")
    assert dialog == {"subject_id": ALI, "flow": "new_deal"}
    assert "Who is the customer?" in (await chat.last(ALI)).text
    # Telegram redelivers what it did not see acknowledged: the second delivery changes nothing.
    assert await post_raw(kanbot.settings.server.http_port, body, SECRET.encode()) == 200
    assert len(await chat.bot_messages(ALI)) == 1
