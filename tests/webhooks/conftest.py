"""Outgoing webhooks end to end: `kanbot run` (its worker leads and sends) against a real HTTP receiver.

The database is each backend's (tests/conftest.py): every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import RunningKanbot, settings_for
from tests.support.team import crm, runtime  # noqa: F401  (fixtures, taken by name)
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.e2e


@pytest.fixture
async def kanbot(
    crm: Crm,  # noqa: F811
    database_url: str,
    emulator: Emulator,
    runtime: str,  # noqa: F811
) -> AsyncIterator[RunningKanbot]:
    """``kanbot run`` whose webhook sender looks for news often and retries after a fifth of a second."""
    settings = settings_for(database_url, emulator.url, runtime)
    settings.server.webhook_poll_seconds = 0.1
    settings.server.webhook_backoff_seconds = 0.2
    settings.server.webhook_timeout_seconds = 2
    running = RunningKanbot(settings)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """Another company's system: an HTTP server on a free port that keeps what it is posted."""
    async with Receiver.started() as found:
        yield found
