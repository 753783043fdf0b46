"""Fixtures of the Asterisk bridge tests: a fake AMI server and a test CRM."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# The repository root is not importable until the project is installed (pytest puts only the test
# package's parent on sys.path): add it before anything here imports the project.
_REPO = Path(__file__).resolve().parents[3]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from .helpers import FakeAmi, TestCrm, free_port  # noqa: E402


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def crm() -> AsyncIterator[TestCrm]:
    """A test CRM on a free port, not started: tests start and stop it to play an outage."""
    server = TestCrm(free_port())
    yield server
    await server.stop()
