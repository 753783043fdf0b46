"""A real ``kanbot run`` under the attacks of a slow or greedy client: bodies and headers sent a byte at
a time, and more connections than the process has file descriptors for."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from telegram_emulator import Emulator
from tests.ops.support import KanbotProcess, base_env, closed_by_server, dripping, until, wait_for

pytestmark = pytest.mark.slow  # a real process per case, a few seconds to start

CALLS_SECRET = "calls-secret-0123456789abcdef"


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """The database does not matter here: a migrated SQLite copy."""
    target = tmp_path / "kanbot.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


@contextlib.asynccontextmanager
async def kanbot_run(process: KanbotProcess) -> AsyncIterator[KanbotProcess]:
    process.start()
    try:
        await process.wait_ready()
        yield process
    finally:
        await process.stop()


def impatient(sqlite_url: str, emulator: Emulator, tmp_path: Path) -> KanbotProcess:
    """``kanbot run`` with one-second header and body timeouts, its call endpoint switched on."""
    env = base_env(
        sqlite_url,
        emulator.url,
        KANBOT_CALLS_SECRET=CALLS_SECRET,
        KANBOT_HTTP_HEADER_TIMEOUT_SECONDS="1",
        KANBOT_HTTP_BODY_TIMEOUT_SECONDS="1",
    )
    return KanbotProcess("run", ["run"], env, tmp_path)


async def test_a_call_body_or_headers_sent_a_byte_every_so_often_are_cut_off(
    sqlite_url: str, emulator: Emulator, tmp_path: Path
) -> None:
    async with kanbot_run(impatient(sqlite_url, emulator, tmp_path)) as kanbot:

        async def slow_body() -> bytes:
            reader, writer = await asyncio.open_connection("127.0.0.1", kanbot.port)
            writer.write(
                b"POST /api/v1/calls HTTP/1.1\r\nHost: kanbot\r\nContent-Type: application/json\r\n"
                b"Content-Length: 5000\r\n\r\n{"
            )
            async with dripping(writer, b" " * 5000, every_s=0.2):
                answer = await closed_by_server(reader, within_s=20)
            writer.close()
            return answer

        async def slow_headers() -> bytes:
            reader, writer = await asyncio.open_connection("127.0.0.1", kanbot.port)
            writer.write(b"POST /api/v1/calls HTTP/1.1\r\nHost: kanbot\r\n")
            async with dripping(writer, b"X-Padding: " + b"p" * 5000, every_s=0.2):
                answer = await closed_by_server(reader, within_s=20)
            writer.close()
            return answer

        body_answer, headers_answer = await asyncio.gather(slow_body(), slow_headers())
        assert body_answer.startswith(b"HTTP/1.1 408 "), body_answer
        assert headers_answer == b""  # no request ever arrived: nothing to answer
        assert (await kanbot.get("/healthz"))[0] == 200
    log = kanbot.output()
    assert "closed 1 connection(s) that sent no complete request headers within 1 s" in log
    assert "answered 408 to 1 request(s) whose body took over 1 s" in log
    assert "Traceback" not in log


async def test_more_connections_than_file_descriptors_neither_exhaust_them_nor_flood_the_log(
    sqlite_url: str, emulator: Emulator, tmp_path: Path
) -> None:
    env = base_env(sqlite_url, emulator.url)
    process = KanbotProcess("run", ["run"], env, tmp_path, open_files=512)
    async with kanbot_run(process) as kanbot:
        flood = [await asyncio.open_connection("127.0.0.1", kanbot.port) for _ in range(700)]
        try:

            async def healthy() -> bool:
                with contextlib.suppress(OSError, TimeoutError):
                    return (await kanbot.get("/healthz", timeout_s=5))[0] == 200
                return False

            await wait_for(healthy, timeout_s=30, what="/healthz to answer through the flood")
            await until(
                lambda: "at the connection limit (256)" in kanbot.output(),
                timeout_s=10,
                what="the connection limit to be reached",
            )
            await wait_for(healthy, timeout_s=30, what="/healthz to answer past the limit")
            assert (await kanbot.get("/readyz", timeout_s=10))[0] == 200
        finally:
            for _, writer in flood:
                writer.close()
    log = kanbot.output()
    assert "the open-file limit (512) allows 256 connections" in log
    assert "Too many open files" not in log
    assert "Traceback" not in log
