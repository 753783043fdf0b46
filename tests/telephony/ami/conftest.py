"""Fixtures of the Asterisk bridge tests: a fake AMI server and a test CRM."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.network import free_port

from .helpers import TestCrm


@pytest.fixture
async def crm() -> AsyncIterator[TestCrm]:
    """A test CRM on a free port, not started: tests start and stop it to play an outage."""
    server = TestCrm(free_port())
    yield server
    await server.stop()
