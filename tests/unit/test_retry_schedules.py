"""The retry schedules kept on tenacity: the outbox's pause after a failed send, and the chat core's
retries through a database outage."""

from __future__ import annotations

import pytest

from bot.core.outage import through_an_outage
from bot.delivery import MAX_BACKOFF_S, retry_delay
from crm_core.domain.errors import Unavailable


def test_an_outbox_item_waits_twice_as_long_after_each_failed_try_up_to_five_minutes() -> None:
    assert [retry_delay(attempts) for attempts in range(10)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert retry_delay(10_000) == MAX_BACKOFF_S


async def test_an_outage_is_retried_once_per_pause_then_the_last_unavailable_is_raised() -> None:
    tries: list[int] = []
    pauses: list[float] = []

    async def unreachable() -> None:
        tries.append(1)
        raise Unavailable("down")

    with pytest.raises(Unavailable):
        await through_an_outage((0.0, 0.01, 0.02), on_retry=pauses.append)(unreachable)
    assert len(tries) == 4
    assert pauses == [0.0, 0.01, 0.02]


async def test_the_database_back_ends_the_retries_and_other_errors_are_not_retried() -> None:
    answers: list[Exception | str] = [Unavailable("down"), "done"]

    async def flaky() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert await through_an_outage((0.0, 0.0))(flaky) == "done"

    tries: list[int] = []

    async def broken() -> None:
        tries.append(1)
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError, match="a bug"):
        await through_an_outage((0.0, 0.0))(broken)
    assert tries == [1]
