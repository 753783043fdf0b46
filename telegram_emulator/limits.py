"""Telegram's flood limits as token buckets, and the faults a test can inject.

Per bot: about 30 messages a second overall; per private chat one a second after a short burst; per
group 20 a minute. A message that would go over any of them gets 429 with `retry_after`, and consumes
nothing. sendMessage, sendPhoto, sendDocument and the editMessage* methods count; nothing else does.
Each message or button press a user sends to the bot gives that chat's bucket one token back (never above
its burst): a bot that answers each user action with one message or edit is never limited however fast
a test clicks, while one that answers a single action with a flood is.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from telegram_emulator.errors import ApiError, too_many_requests


@dataclass
class Limits:
    """The emulator-wide limits; `POST /emulator/limits` changes any of them."""

    enforce: bool = True
    global_per_sec: float = 30.0
    global_burst: float = 30.0
    per_chat_per_sec: float = 1.0
    per_chat_burst: float = 5.0
    per_group_per_min: float = 20.0
    per_group_burst: float = 20.0
    callback_timeout_s: float = 15.0
    webhook_retry_s: float = 0.2
    webhook_retry_max_s: float = 5.0

    def update(self, changes: dict[str, Any]) -> None:
        """Apply the known keys; raise ValueError naming an unknown one or a wrong type."""
        names = {f.name: f.type for f in fields(self)}
        for key, value in changes.items():
            if key == "bot_id":
                continue
            if key not in names:
                raise ValueError(f"unknown limit {key!r}; known: {', '.join(names)}")
            if key == "enforce":
                if not isinstance(value, bool):
                    raise ValueError("enforce must be true or false")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"{key} must be a positive number")
            setattr(self, key, value)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TokenBucket:
    capacity: float
    per_sec: float
    tokens: float
    updated_at: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated_at) * self.per_sec)
        self.updated_at = now

    def wait_s(self) -> float:
        """Seconds until one token is there (0 when there is one now)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.per_sec


@dataclass
class RateLimiter:
    limits: Limits
    buckets: dict[tuple[int, str], TokenBucket] = field(default_factory=dict)

    def _bucket(self, key: tuple[int, str], capacity: float, per_sec: float, now: float) -> TokenBucket:
        bucket = self.buckets.get(key)
        if bucket is None or (bucket.capacity, bucket.per_sec) != (capacity, per_sec):
            bucket = self.buckets[key] = TokenBucket(capacity, per_sec, capacity, now)
        bucket.refill(now)
        return bucket

    def _chat_bucket(self, bot_id: int, chat_id: int, now: float) -> TokenBucket:
        if chat_id < 0:
            per_sec = self.limits.per_group_per_min / 60
            return self._bucket((bot_id, f"chat{chat_id}"), self.limits.per_group_burst, per_sec, now)
        limits = self.limits
        return self._bucket((bot_id, f"chat{chat_id}"), limits.per_chat_burst, limits.per_chat_per_sec, now)

    def take(self, bot_id: int, chat_id: int) -> None:
        """Count one message to the chat, or raise 429 with the seconds to wait."""
        if not self.limits.enforce:
            return
        now = time.monotonic()
        limits = self.limits
        overall = self._bucket((bot_id, "global"), limits.global_burst, limits.global_per_sec, now)
        chat = self._chat_bucket(bot_id, chat_id, now)
        wait_s = max(overall.wait_s(), chat.wait_s())
        if wait_s > 0:
            raise too_many_requests(max(1, math.ceil(wait_s)))
        overall.tokens -= 1
        chat.tokens -= 1

    def credit(self, bot_id: int, chat_id: int) -> None:
        """A user acted in the chat: the bot may answer without spending its burst."""
        bucket = self._chat_bucket(bot_id, chat_id, time.monotonic())
        bucket.tokens = min(bucket.capacity, bucket.tokens + 1)


@dataclass
class Fault:
    """The next `count` calls of `method` ("*" for any) fail with `status`, or hang `delay_s` first."""

    method: str
    count: int
    status: int | None = None
    retry_after: int = 1
    delay_s: float = 0.0
    bot_id: int | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Fault:
        method = body.get("method")
        if not isinstance(method, str) or not method:
            raise ValueError('"method" is required: a Bot API method name, or "*" for any')
        status, delay_s = body.get("status"), body.get("delay_s", 0)
        if status is None and not delay_s:
            raise ValueError('give "status" (429, 500 or 502) or "delay_s" (a hang)')
        if status is not None and status not in (429, 500, 502):
            raise ValueError('"status" must be 429, 500 or 502')
        count, retry_after = body.get("count", 1), body.get("retry_after", 1)
        if not isinstance(count, int) or count < 1 or not isinstance(retry_after, int) or retry_after < 1:
            raise ValueError('"count" and "retry_after" must be positive integers')
        if not isinstance(delay_s, int | float) or delay_s < 0:
            raise ValueError('"delay_s" must be a non-negative number of seconds')
        bot_id = body.get("bot_id")
        return cls(
            method.lower(), count, status, retry_after, float(delay_s), int(bot_id) if bot_id else None
        )

    def matches(self, method: str, bot_id: int) -> bool:
        return self.method in ("*", method.lower()) and self.bot_id in (None, bot_id)

    def error(self) -> ApiError | None:
        if self.status == 429:
            return too_many_requests(self.retry_after)
        if self.status == 500:
            return ApiError("Internal Server Error", 500)
        if self.status == 502:
            return ApiError("Bad Gateway", 502)
        return None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Faults:
    pending: list[Fault] = field(default_factory=list)

    def take(self, method: str, bot_id: int) -> Fault | None:
        """The fault for this call, used up by one; the oldest matching one first."""
        for fault in self.pending:
            if fault.matches(method, bot_id):
                fault.count -= 1
                if fault.count == 0:
                    self.pending.remove(fault)
                return fault
        return None
