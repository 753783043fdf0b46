"""Exponential backoff with jitter, for reconnecting to Asterisk and retrying the CRM."""

from __future__ import annotations

import random
from dataclasses import dataclass

_MAX_EXPONENT = 64  # past it the delay is the cap anyway; keeps the power finite


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

    def delay(self, attempt: int) -> float:
        """The pause before retry number ``attempt`` (0 for the first retry)."""
        base = min(self.max_s, self.initial_s * self.factor ** min(max(attempt, 0), _MAX_EXPONENT))
        spread = base * self.jitter * (2 * random.random() - 1)
        return min(self.max_s, max(0.0, base + spread))
