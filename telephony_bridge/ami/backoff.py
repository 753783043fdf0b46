"""Exponential backoff with jitter, for reconnecting to Asterisk and retrying the CRM, as tenacity waits.

``Backoff`` names the schedule (the listener's and the sender's defaults, the tests' quick ones); its
``wait()`` is the tenacity wait strategy the retry loops run on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState
from tenacity.wait import wait_base, wait_exponential


@dataclass(frozen=True, slots=True)
class Backoff:
    """``initial_s * factor**attempt``, capped at ``max_s``, each delay spread by ±``jitter`` of itself."""

    initial_s: float = 1.0
    factor: float = 2.0
    max_s: float = 60.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.initial_s <= 0 or self.factor < 1 or self.max_s < self.initial_s or not 0 <= self.jitter < 1:
            raise ValueError("backoff needs 0 < initial_s <= max_s, factor >= 1 and 0 <= jitter < 1")

    def wait(self) -> wait_base:
        """The tenacity wait strategy: before retry number n (from 1), the n-th delay."""
        exponential = wait_exponential(multiplier=self.initial_s, exp_base=self.factor, max=self.max_s)
        return _Spread(exponential, jitter=self.jitter, max_s=self.max_s)

    def delay(self, attempt: int) -> float:
        """The pause before retry number ``attempt`` (0 for the first retry)."""
        state = RetryCallState(AsyncRetrying(), None, (), {})
        state.attempt_number = max(attempt, 0) + 1
        return self.wait()(state)


class _Spread(wait_base):
    """Another wait, spread by ±``jitter`` of itself (tenacity's own jitter is added, not proportional),
    never past ``max_s``."""

    def __init__(self, wait: wait_base, *, jitter: float, max_s: float) -> None:
        self.wait, self.jitter, self.max_s = wait, jitter, max_s

    def __call__(self, retry_state: RetryCallState) -> float:
        base = self.wait(retry_state)
        spread = base * self.jitter * (2 * random.random() - 1)
        return min(self.max_s, max(0.0, base + spread))
