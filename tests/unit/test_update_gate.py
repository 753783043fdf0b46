"""The gate that bounds how many updates a runtime handles at once (KANBOT_MAX_CONCURRENT_UPDATES)."""

from __future__ import annotations

import asyncio

import pytest

from bot.runtime import UpdateGate


class Handlers:
    """Updates that wait, once in, until released; ``all_in`` is set when ``expected`` are in."""

    def __init__(self, gate: UpdateGate, expected: int) -> None:
        self.gate, self.expected = gate, expected
        self.entered: list[int] = []
        self.release, self.all_in = asyncio.Event(), asyncio.Event()

    async def handle(self, number: int) -> None:
        async with self.gate:
            self.entered.append(number)
            if len(self.entered) == self.expected:
                self.all_in.set()
            await self.release.wait()


async def test_past_the_limit_updates_wait_until_one_in_flight_is_done() -> None:
    gate = UpdateGate(3)
    updates = Handlers(gate, expected=3)
    tasks = [asyncio.create_task(updates.handle(n)) for n in range(7)]
    await updates.all_in.wait()
    for _ in range(20):  # the four others had every chance to get in
        await asyncio.sleep(0)
    assert (gate.in_flight, updates.entered) == (3, [0, 1, 2])

    updates.release.set()
    await asyncio.gather(*tasks)
    assert sorted(updates.entered) == list(range(7))
    assert (gate.in_flight, gate.most_in_flight, gate.handled) == (0, 3, 7)


async def test_a_failing_update_gives_its_slot_back() -> None:
    gate = UpdateGate(1)
    with pytest.raises(RuntimeError):
        async with gate:
            raise RuntimeError("the handler failed")
    async with gate:
        assert gate.in_flight == 1
    assert (gate.in_flight, gate.handled) == (0, 2)


async def test_without_a_limit_the_gate_only_counts() -> None:
    gate = UpdateGate(None)
    updates = Handlers(gate, expected=40)
    tasks = [asyncio.create_task(updates.handle(n)) for n in range(40)]
    await updates.all_in.wait()
    assert gate.most_in_flight == 40
    updates.release.set()
    await asyncio.gather(*tasks)
    assert gate.in_flight == 0
