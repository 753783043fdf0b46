"""Sharing Telegram's sending limits: members first, strangers on a small budget.

Telegram takes about thirty messages a second from a bot, then answers 429 to everyone. A thousand
strangers writing at once must not use that up: their messages (the "private CRM" refusal) get a small
budget of their own, one at most per stranger per ``STRANGER_EVERY_S``, and are sent only while no
member's reply is on its way and no 429 is being waited out. A member's reply waits out every 429
instead. Answers to button presses are not messages (Telegram does not count them): a stranger's press
is always answered.

Transport policy, kept per process (each process sends on its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator

STRANGER_REPLIES_PER_S = 2.0  # across all strangers
STRANGER_BURST = 10.0
STRANGER_EVERY_S = 10.0  # one reply per stranger within this
STRANGER_PATIENCE_S = 5.0  # how long a stranger's reply waits for the members' to go; then it is dropped
_REMEMBERED = 10_000  # strangers whose last reply is remembered (the oldest are forgotten first)


class StrangerBudget:
    """Which strangers' updates get a reply: a token bucket for all, and one reply each per window."""

    def __init__(
        self,
        *,
        per_second: float = STRANGER_REPLIES_PER_S,
        burst: float = STRANGER_BURST,
        every_s: float = STRANGER_EVERY_S,
    ) -> None:
        self.per_second, self.burst, self.every_s = per_second, burst, every_s
        self._tokens, self._updated = burst, 0.0
        self._last: OrderedDict[int, float] = OrderedDict()
        self.refused = 0

    def admit(self, sender_id: int, now: float) -> bool:
        """Whether this stranger gets a reply at ``now`` (seconds; the bot's clock), and count it."""
        self._forget(now)
        last = self._last.get(sender_id)
        elapsed = max(now - self._updated, 0.0) if self._updated else 0.0
        self._tokens = min(self.burst, self._tokens + elapsed * self.per_second)
        self._updated = now
        if (last is not None and 0 <= now - last < self.every_s) or self._tokens < 1:
            self.refused += 1
            return False
        self._tokens -= 1
        self._last[sender_id] = now
        self._last.move_to_end(sender_id)
        return True

    def _forget(self, now: float) -> None:
        while self._last:
            sender_id, at = next(iter(self._last.items()))
            if 0 <= now - at < self.every_s and len(self._last) < _REMEMBERED:
                return
            del self._last[sender_id]


class Lanes:
    """Members' replies before strangers': how many members' replies are being sent, and until when
    Telegram asked to wait (a 429)."""

    def __init__(self) -> None:
        self.members = 0
        self.quiet_until = 0.0
        self._changed = asyncio.Event()

    @contextlib.contextmanager
    def member(self) -> Iterator[None]:
        self.members += 1
        try:
            yield
        finally:
            self.members -= 1
            self._changed.set()

    def told_to_wait(self, seconds: float) -> None:
        self.quiet_until = max(self.quiet_until, time.monotonic() + seconds)

    async def strangers_turn(self, patience_s: float = STRANGER_PATIENCE_S) -> bool:
        """Wait until no member's reply is being sent and no 429 is waited out; ``False`` when that
        did not happen within ``patience_s`` (the stranger's reply is then dropped)."""
        deadline = time.monotonic() + patience_s
        while True:
            now = time.monotonic()
            if self.members == 0 and now >= self.quiet_until:
                return True
            if now >= deadline:
                return False
            self._changed.clear()
            wake_in = min(deadline, max(self.quiet_until, now + 0.05)) - now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=max(wake_in, 0.01))


_lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Lanes] = weakref.WeakKeyDictionary()


def lanes() -> Lanes:
    """This process's lanes (one per event loop: every runtime's replies go through the same)."""
    loop = asyncio.get_running_loop()
    found = _lanes.get(loop)
    if found is None:
        found = _lanes[loop] = Lanes()
    return found
