"""Reliability fixtures: the emulator and Kanbot as in the e2e tests, and the closing summary.

Tests marked ``reliability`` are the long ones (``make reliability``); they are left out of every run
whose ``-m`` does not ask for them, whatever else it selects (``-m "not browser"`` included).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import (
    STRANGER,
    EmulatedChat,
    RunningKanbot,
    seeded_crm,
    settings_for,
    team_chat,
)
from tests.reliability.nothing_lost import TALLY


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "reliability" in (config.getoption("markexpr") or ""):
        return
    long_ones = [item for item in items if item.get_closest_marker("reliability")]
    if long_ones:
        config.hook.pytest_deselected(items=long_ones)
        items[:] = [item for item in items if not item.get_closest_marker("reliability")]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What the reliability tests tried and checked (not shown by pytest-xdist's workers)."""
    if TALLY.cases or TALLY.checks:
        terminalreporter.section("reliability summary")
        for line in TALLY.lines():
            terminalreporter.write_line(line)


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(port=0) as emu:
        yield emu


@pytest.fixture
async def crm(database_url: str) -> AsyncIterator[Crm]:
    """The CRM on the bot's database (a boss and two sellers), to set scenes and check results."""
    async with seeded_crm(database_url) as crm:
        yield crm


@pytest.fixture
async def kanbot(crm: Crm, database_url: str, emulator: Emulator) -> AsyncIterator[RunningKanbot]:
    running = RunningKanbot(settings_for(database_url, emulator.url))
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def chat(kanbot: RunningKanbot, emulator: Emulator) -> AsyncIterator[EmulatedChat]:
    async with team_chat(kanbot, emulator.url, (STRANGER, "Eve", "en")) as users:
        yield users
