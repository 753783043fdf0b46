"""Upgrading a database from before the outbox kept its messages: a pop-up sent then has no message to
edit, so the end of its call comes as a new message, and what is sent afterwards keeps its message."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm_core.domain.notifications import CallUnknown, Notification
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.conftest import BACKENDS, T0
from tests.integration.test_outbox_delivery import FakeTelegram, delivery, rows
from tests.upgrades import empty_database, revision_before, upgrade_old_rows

BEFORE = revision_before("0018")


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from empty_database(request, tmp_path, "upgrade_0018")


OLD_ROWS = [
    "INSERT INTO users (id, telegram_id, name, role, created_at) VALUES (1, 201, 'Alice', 'seller', :t0)",
    "INSERT INTO outbox (id, recipient_id, kind, payload, dedup_key, created_at, not_before, status, "
    'attempts, sent_at) VALUES (100, 1, \'call_unknown\', \'{"call_id": 1, "caller": "+74950000001"}\', '
    "'pop:1', :t0, :t0, 'sent', 1, :t0)",
]


def test_a_pop_up_sent_before_the_upgrade_gets_its_calls_end_as_a_new_message(empty_url: str) -> None:
    async def check() -> None:
        crm = Crm(await upgrade_old_rows(empty_url, BEFORE, OLD_ROWS, {"t0": T0}), clock=FixedClock(T0))
        try:
            ended = Notification(
                1,
                CallUnknown(call_id=2, caller="+74950000002", deal_id=None),
                dedup_key="ended:1",
                edits="pop:1",
            )
            async with crm.db.uow() as uow:
                await uow.outbox.put(ended, at=T0)
                await uow.commit()
            telegram = FakeTelegram()
            await delivery(crm, telegram).flush()
            assert len(telegram.sent) == 1 and telegram.edited == []
            by_key = {r["dedup_key"]: r for r in (await rows(crm)).values()}
            assert (by_key["pop:1"]["chat_id"], by_key["pop:1"]["message_id"]) == (None, None)
            assert (by_key["ended:1"]["status"], by_key["ended:1"]["chat_id"]) == ("sent", 201)
            assert by_key["ended:1"]["message_id"] == 1
        finally:
            await crm.db.dispose()

    asyncio.run(check())
