"""Retrying through a short database outage, on a fixed schedule of pauses (tenacity)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_chain, wait_fixed

from crm_core.domain.errors import Unavailable


def through_an_outage(
    delays: Sequence[float], *, on_retry: Callable[[float], None] | None = None
) -> AsyncRetrying:
    """Retry while the database is ``Unavailable``, pausing ``delays`` in turn (``on_retry`` told each
    pause before it), then raise the last ``Unavailable``; any other error is raised at once."""

    def before_sleep(state: RetryCallState) -> None:
        if on_retry is not None:
            on_retry(state.upcoming_sleep)

    return AsyncRetrying(
        retry=retry_if_exception_type(Unavailable),
        wait=wait_chain(*(wait_fixed(delay) for delay in delays)) if delays else wait_fixed(0),
        stop=stop_after_attempt(len(delays) + 1),
        before_sleep=before_sleep,
        reraise=True,
    )
