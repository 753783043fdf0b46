"""REST API fixtures: `kanbot run` serving HTTP against the emulator, the team's CRM, tokens and a client.

The database is each backend's (tests/conftest.py): every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.api.support import Api
from tests.e2e.harness import RunningKanbot
from tests.support.team import crm, kanbot, runtime  # noqa: F401  (fixtures, taken by name)

pytestmark = pytest.mark.e2e


@pytest.fixture
async def api(kanbot: RunningKanbot) -> AsyncIterator[Api]:  # noqa: F811
    """An HTTP client of the running Kanbot's REST API."""
    async with aiohttp.ClientSession() as session:
        yield Api(session, kanbot.http_url)
