"""Shared fixtures of the cloud PBX tests: the data folders, a fake ``ingest_call``, a served app."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

# Until the project is installed in the venv (or pytest gets ``pythonpath = ["."]``), the repository
# root is not importable: pytest puts only this test package's parent on sys.path. Hence the
# project's own modules are imported below inside the fixtures, after this line has run.
if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

if TYPE_CHECKING:
    from crm_core.domain.calls import CallEvent, IngestOutcome
    from telephony_bridge.settings import CloudPbxSettings

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "data" / "webhooks"
SHARED_CAPTURES = REPO.parent / "shared" / "telephony-captures"

TWILIO_TOKEN = "k4nb0t-test-twilio-auth-token-0032"  # Twilio's are 32 characters
ZADARMA_SECRET = "k4nb0t-test-zadarma-secret"
MANGO_KEY = "k4nb0t-test-vpbx-api-key"
MANGO_SALT = "k4nb0t-test-vpbx-api-salt"
CALLS_SECRET = "k4nb0t-test-calls-secret"
PUBLIC_URL = "https://crm.example.com"
NOW = datetime(2024, 5, 14, 9, 20, tzinfo=UTC).timestamp()


def data(path: str) -> bytes:
    return (DATA / path).read_bytes().strip()


class FakeIngest:
    """``ingest_call`` as an in-memory fake: calls kept by (provider, call_id), replays reported."""

    def __init__(self) -> None:
        self.calls: dict[tuple[str, str], list[CallEvent]] = {}
        self.deals: dict[tuple[str, str], int] = {}
        self.failure: BaseException | None = None

    @property
    def received(self) -> list[CallEvent]:
        return [event for events in self.calls.values() for event in events]

    async def __call__(self, event: CallEvent) -> IngestOutcome:
        from crm_core.domain.calls import IngestOutcome

        if self.failure is not None:
            raise self.failure
        key = (event.provider, event.call_id)
        seen = self.calls.setdefault(key, [])
        created = key not in self.deals
        deal_id = self.deals.setdefault(key, len(self.deals) + 1)
        duplicate = event in seen
        if not duplicate:
            seen.append(event)
        return IngestOutcome(call_id=event.call_id, deal_id=deal_id, created=created, duplicate=duplicate)


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_settings(**overrides: Any) -> CloudPbxSettings:
    from telephony_bridge.settings import CloudPbxSettings

    values: dict[str, Any] = {
        "twilio_auth_token": TWILIO_TOKEN,
        "zadarma_secret": ZADARMA_SECRET,
        "mango_api_key": MANGO_KEY,
        "mango_api_salt": MANGO_SALT,
        "calls_secret": CALLS_SECRET,
        "public_url": PUBLIC_URL,
        "default_region": "RU",
        "zadarma_timezone": "Europe/Moscow",
    }
    values.update(overrides)
    return CloudPbxSettings(_env_file=None, **values)


@pytest.fixture
def ingest() -> FakeIngest:
    return FakeIngest()


@pytest.fixture
def clock() -> Clock:
    return Clock()


Serve = Callable[..., Any]


@pytest.fixture
def serve(ingest: FakeIngest, clock: Clock) -> Serve:
    """``async with serve(**settings) as client``: the call endpoints on a real local port."""

    @asynccontextmanager
    async def serving(**overrides: Any) -> AsyncIterator[TestClient[Any, Any]]:
        from telephony_bridge.http import create_app

        app = create_app(ingest=ingest, settings=make_settings(**overrides), clock=clock)
        async with TestClient(TestServer(app)) as client:
            yield client

    return serving


@pytest.fixture
async def client(serve: Serve) -> AsyncIterator[TestClient[Any, Any]]:
    async with serve() as served:
        yield served
