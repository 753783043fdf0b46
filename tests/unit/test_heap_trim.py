"""Giving the heap back once the bot goes quiet: one trim after a burst, never one per update."""

from __future__ import annotations

import asyncio
import platform

import pytest

from bot.runtime import UpdateGate
from kanbot.heap import HeapTrimmer, _malloc_trim


class FakeTrim:
    def __init__(self) -> None:
        self.calls: list[int] = []
        self.done = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    def __call__(self, pad: int) -> int:  # runs in a worker thread, as malloc_trim does
        self.calls.append(pad)
        self.loop.call_soon_threadsafe(self.done.set)
        return 1


async def test_a_burst_of_updates_ends_in_one_trim_once_the_last_is_done() -> None:
    trim = FakeTrim()
    trimmer = HeapTrimmer(quiet_s=0, every_s=0, trim=trim)
    gate = UpdateGate(2)
    gate.on_idle.append(trimmer.quiet)
    release = asyncio.Event()

    async def update() -> None:
        async with gate:
            await release.wait()

    burst = [asyncio.create_task(update()) for _ in range(5)]
    for _ in range(10):
        await asyncio.sleep(0)
    assert trim.calls == []  # nothing while updates are in flight
    release.set()
    await asyncio.gather(*burst)
    await trim.done.wait()
    await trimmer.close()
    assert (trim.calls, trimmer.trims) == ([0], 1)


async def test_quiet_again_after_a_trim_trims_again() -> None:
    trim = FakeTrim()
    trimmer = HeapTrimmer(quiet_s=0, every_s=0, trim=trim)
    for _ in range(2):
        trim.done.clear()
        trimmer.quiet()
        trimmer.quiet()
        await trim.done.wait()
        await trimmer.close()
    assert trim.calls == [0, 0]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
async def test_on_glibc_the_real_malloc_trim_is_found_and_called() -> None:
    assert _malloc_trim() is not None
    trimmer = HeapTrimmer(quiet_s=0, every_s=0)
    trimmer.quiet()
    while trimmer.trims == 0:  # the trim runs in a thread; the loop waits for its task
        assert trimmer._running is not None or trimmer._timer is not None
        if trimmer._running is not None:
            await trimmer._running
        else:
            await asyncio.sleep(0)
    await trimmer.close()
    assert trimmer.trims == 1
