"""Operations tests: real ``kanbot`` processes, their HTTP endpoints, signals, the operator's CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from telegram_emulator import Emulator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes tens of seconds (deselect with -m 'not slow')")


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(port=0) as emu:
        yield emu
