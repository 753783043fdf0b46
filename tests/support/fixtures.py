"""Fixtures every test folder may take by name (tests/conftest.py loads this module as a plugin): the
Telegram emulator, a fake Asterisk, a TCP proxy to the test database, headless Chromium and the folder
for screenshots."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from telegram_emulator import Emulator
from tests.support.browser import artifacts, browser
from tests.support.network import TcpProxy
from tests.telephony.ami.helpers import FakeAmi

__all__ = ["artifacts", "browser", "emulator", "fake_ami", "proxy"]


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """The Telegram emulator on a free port, empty: no users, no chats, no bot yet."""
    async with Emulator(port=0) as running:
        yield running


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAmi]:
    """A fake Asterisk Manager Interface on a free port, logging Kanbot (or the bridge) in."""
    server = FakeAmi()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    """A TCP proxy to the test database (PostgreSQL), listening: ``proxy.url_through(database_url)``."""
    link = await TcpProxy.to(database_url).start()
    yield link
    await link.close()
