"""Delivering the outbox: every notification sent once, in its recipient's language, within Telegram's limits.

The loop claims due items with their recipients (a lease; PostgreSQL skips rows another process
holds; recipients take turns, so one user's backlog never holds back another's notice), renders each
for its recipient, and sends it through a ``Transport`` (aiogram or
python-telegram-bot). Several chats are served at once, each chat's items in order by one worker, all
under one rate limiter: it keeps under about 30 messages a second in all and 1 a second per chat, waits
out a 429's ``retry_after``, retries 5xx and network errors with backoff, and stops retrying for a user
who blocked the bot. An item is marked sent only after Telegram accepted it (the marks of items that
went out meanwhile are written together); a crash between the two re-sends it once after the lease.
When the process stops, the messages being sent go out, and the rest of the batch (even an item
waiting out a 429) is handed back to the queue at once instead of holding its lease.

The sent mark keeps the message an item became, so that a later item that ``edits`` it (a call's
pop-up, when the call ends) is shown in that message: edited in place, or sent anew when the earlier
item was given up or its message cannot be edited; while the earlier item still waits to go out, the
later one waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_before_delay
from tenacity.wait import wait_exponential

from bot.core.notify import Notifier, Outgoing
from bot.core.perform import Failure, TransportError, edit_or_send
from bot.core.views import SendPhoto, View
from crm_core.domain.errors import Unavailable
from crm_core.domain.notifications import BadPayload, NotePayload, OutboxItem, Progress, Shown
from crm_core.domain.users import User
from crm_core.services import Crm

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
WAIT_FOR_EARLIER_S = 1.0  # an item to be shown in an earlier one's message looks again this much later
MAX_ATTEMPTS = 15
MAX_BACKOFF_S = 300.0
# An item's pause after a 5xx or network error (1, 2, 4... s, at most MAX_BACKOFF_S), kept in its row
# (``not_before``) rather than in a retry loop: it survives a restart and holds for every process.
RETRY_WAIT = wait_exponential(multiplier=1, max=MAX_BACKOFF_S)
# Renders (read transactions) at once: with the marks' writes they stay within the database's five
# pooled connections, so the chat's own transactions are not crowded out and no overflow connection is
# opened and closed again at every pass.
RENDERS_AT_ONCE = 4


def retry_delay(attempts: int) -> float:
    """The pause before an item's next try, after ``attempts`` failed ones (``RETRY_WAIT``)."""
    state = RetryCallState(AsyncRetrying(), None, (), {})
    state.attempt_number = attempts + 1
    return float(RETRY_WAIT(state))


class _Stopping(Exception):
    """The process is stopping: an item not sent yet goes back to the queue."""


class Transport(Protocol):
    """Sending on behalf of the bot; implemented by each runtime. Raises ``TransportError``."""

    async def send_view(self, chat_id: int, view: View) -> int: ...

    async def edit_view(self, chat_id: int, message_id: int, view: View) -> None: ...

    async def send_photo(self, chat_id: int, photo: SendPhoto) -> int: ...


@dataclass
class Limits:
    """Telegram's broadcast limits (a little under them)."""

    per_second: float = 25.0
    per_chat_interval_s: float = 1.05
    per_group_per_minute: int = 19


@dataclass
class RateLimiter:
    """Token bucket for the bot as a whole, and a minimum interval per chat.

    A sender takes its token (``take``) before it sends, so senders in flight together never spend more
    than the bucket holds; the chat's interval runs from when Telegram took the message (``sent``).
    """

    limits: Limits
    clock: Callable[[], float] = time.monotonic
    _allowance: float = 0.0
    _stamp: float = field(default=0.0)
    _chat_free_at: dict[int, float] = field(default_factory=dict)
    _paused_until: float = 0.0

    def chat_wait(self, chat_id: int) -> float:
        interval = self.limits.per_chat_interval_s if chat_id > 0 else 60.0 / self.limits.per_group_per_minute
        return max(self._chat_free_at.get(chat_id, 0.0) - self.clock(), 0.0) if interval else 0.0

    def global_wait(self) -> float:
        now = self.clock()
        if now < self._paused_until:
            return self._paused_until - now
        rate = self.limits.per_second
        self._allowance = min(rate, self._allowance + (now - self._stamp) * rate)
        self._stamp = now
        return 0.0 if self._allowance >= 1 else (1 - self._allowance) / rate

    def take(self) -> None:
        """Spend a token on a message about to be sent (after ``global_wait`` said there is one)."""
        self._allowance -= 1

    def sent(self, chat_id: int) -> None:
        interval = self.limits.per_chat_interval_s if chat_id > 0 else 60.0 / self.limits.per_group_per_minute
        self._chat_free_at[chat_id] = self.clock() + interval
        if len(self._chat_free_at) > 10_000:
            now = self.clock()
            self._chat_free_at = {c: t for c, t in self._chat_free_at.items() if t > now}

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds)


@dataclass
class DeliveryStats:
    sent: int = 0
    sent_by_kind: dict[str, int] = field(default_factory=dict)  # reminders, digests, pop-ups...
    retried: int = 0
    rate_limited: int = 0
    failed: int = 0


class OutboxDelivery:
    def __init__(
        self,
        crm: Crm,
        notifier: Notifier,
        transport: Transport,
        *,
        limits: Limits | None = None,
        batch: int = 50,
        concurrency: int = 8,
    ) -> None:
        self.crm, self.notifier, self.transport = crm, notifier, transport
        self.limiter = RateLimiter(limits or Limits())
        self.batch, self.concurrency = batch, concurrency
        self.stats = DeliveryStats()
        self.wake = asyncio.Event()
        self._stop: asyncio.Event | None = None
        self._rendering = asyncio.Semaphore(RENDERS_AT_ONCE)
        self._turn = asyncio.Lock()  # senders take the limiter's tokens one at a time, in order
        self._marking = asyncio.Lock()  # one write of sent marks at a time; the others queue up
        self._unmarked: list[tuple[int, Shown | None]] = []  # sent, their marks not written yet
        self._shown: dict[int, Shown] = {}  # items this process sent lately: the message each became
        self._blocked: set[int] = set()  # users who blocked the bot during this pass

    async def run(self, stop: asyncio.Event, *, idle_s: float = 1.0) -> None:
        """Deliver until ``stop`` is set; ``wake`` makes it look at the outbox at once.

        ``stop`` also ends a pass early: what is being sent goes out, the rest is released.
        """
        self._stop = stop
        while not stop.is_set():
            self.wake.clear()  # before the pass: a wake-up during it must not be lost
            try:
                handled = await self.flush_once()
            except Unavailable:
                log.warning("outbox delivery: the database is unavailable; retrying shortly")
                handled = 0
            except Exception:
                log.exception("outbox delivery pass failed; retrying shortly")
                handled = 0
            if handled == 0:
                waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
                await asyncio.wait(waiters, timeout=idle_s, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()

    async def flush(self, *, deadline_s: float = 60.0) -> int:
        """Deliver everything due now (``kanbot outbox --flush``); returns how many were sent."""
        started, before = time.monotonic(), self.stats.sent
        while time.monotonic() - started < deadline_s:
            if await self.flush_once() == 0:
                break
        return self.stats.sent - before

    async def flush_once(self) -> int:
        """Claim one batch and handle it; returns how many items were handled (sent or rescheduled)."""
        items = await self.crm.outbox.claim(limit=self.batch, lease=LEASE)
        lanes: dict[int, list[OutboxItem]] = {}  # per chat, in the claim's order
        for item in items:
            lanes.setdefault(item.recipient_telegram_id, []).append(item)
        waiting = deque(lanes.values())
        self._blocked.clear()
        failed: list[BaseException] = []

        async def work() -> None:
            while waiting and not failed:  # after a failure the lanes not started keep their lease
                try:
                    for item in waiting.popleft():
                        await self._deliver(item)
                except Exception as error:
                    failed.append(error)

        await asyncio.gather(*(work() for _ in range(min(self.concurrency, len(lanes)))))
        if failed:
            raise failed[0]
        return len(items)

    async def _deliver(self, item: OutboxItem) -> None:
        chat_id, recipient = item.recipient_telegram_id, item.recipient
        wait = self.limiter.chat_wait(chat_id)
        if wait > 0.5:  # this chat had a message just now: let other chats go first
            await self._reschedule(item, wait, "per-chat limit", count=False)
            return
        if not recipient.active or recipient.blocked_bot or recipient.id in self._blocked:
            await self._give_up(item, "recipient inactive or blocked the bot", status="dead")
            return
        edit, waits_s = self._edit_target(item)
        if waits_s is not None:
            await self._reschedule(item, waits_s, "waits for the message it is shown in", count=False)
            return
        try:
            await self._pause(wait)
        except _Stopping:
            await self._release(item, progress=None)
            return
        try:
            payload = item.payload
        except BadPayload as error:
            log.error("outbox item %s (%s) could not be read: %s", item.id, item.kind, error)
            await self._give_up(item, f"render error: {error}")
            return
        done, shown = item.progress.parts_sent, item.progress.shown

        def progress() -> tuple[NotePayload, Progress] | None:
            return (payload, Progress(done, shown)) if done else None

        try:
            async with self._rendering:
                messages = await self.notifier.render(recipient, payload)
            for message in messages[done:]:  # a digest's text went out, its chart failed: the chart only
                message_id = await self._send(chat_id, message, edit=edit if done == 0 else None)
                if done == 0:
                    shown = Shown(chat_id, message_id)
                done += 1
        except TransportError as error:
            await self._failed(item, recipient, error, progress=progress())
            return
        except _Stopping:
            await self._release(item, progress=progress())
            return
        except Unavailable:  # the database, not the item (it was given up as a render error): try soon
            with contextlib.suppress(Unavailable):
                await self._reschedule(item, 5.0, "database unavailable", count=False)
            return
        except Exception as error:
            log.exception("outbox item %s (%s) could not be rendered", item.id, item.kind)
            await self._give_up(item, f"render error: {error}")
            return
        if shown is not None:
            if len(self._shown) > 10_000:
                self._shown.clear()
            self._shown[item.id] = shown
        await self._mark_sent(item, shown)
        self.stats.sent_by_kind[item.kind] = self.stats.sent_by_kind.get(item.kind, 0) + 1

    def _edit_target(self, item: OutboxItem) -> tuple[int | None, float | None]:
        """The message an item is to be shown in (``None``: a new one), or how long it waits for the
        earlier item it is shown in to go out first."""
        earlier = item.replaces
        if earlier is None:
            return None, None
        shown = earlier.shown or self._shown.get(earlier.item_id)
        if shown is not None and shown.chat_id == item.recipient_telegram_id:
            return shown.message_id, None
        if earlier.pending_until is None:  # given up, never shown, or shown before messages were kept
            return None, None
        due_in = (earlier.pending_until - self.crm.clock.now()).total_seconds()
        return None, max(due_in, 0.0) + WAIT_FOR_EARLIER_S

    async def _mark_sent(self, item: OutboxItem, shown: Shown | None) -> None:
        """Note that Telegram took the item, in one write with the items that went out while the last
        write was under way (a group commit: a write per message would hold the pace back).

        Through a database outage the write is retried until the lease would let a pass send the items
        again: they had been sent a second time after the outage. Returns once the item's mark is
        written, or has failed in another sender's write (the lease then brings the item back)."""
        self._unmarked.append((item.id, shown))
        async with self._marking:
            ids, self._unmarked = self._unmarked, []
            if not ids:  # the write before took this item along
                return
            retrying = AsyncRetrying(
                retry=retry_if_exception_type(Unavailable),
                wait=wait_exponential(multiplier=0.5, max=5.0),
                stop=stop_before_delay(LEASE.total_seconds() - 5),
                before_sleep=lambda _: log.warning(
                    "outbox items %s went out; the database is unavailable to note it: retrying",
                    [item_id for item_id, _ in ids],
                ),
                reraise=True,
            )
            await retrying(self.crm.outbox.mark_all_sent, ids)
            self.stats.sent += len(ids)

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds`` (a rate limit); ``_Stopping`` when the process stops first (or has)."""
        if self._stop is None:
            await asyncio.sleep(seconds)
            return
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        if self._stop.is_set():
            raise _Stopping

    async def _release(self, item: OutboxItem, *, progress: tuple[NotePayload, Progress] | None) -> None:
        """Give an item back, due now, for the next pass or process (no attempt counted)."""
        why = "not sent yet when the process stopped"
        await self._reschedule(item, 0, why, count=False, progress=progress)

    async def _send(self, chat_id: int, message: Outgoing, *, edit: int | None = None) -> int:
        """Send ``message``, or show it in the message ``edit``; returns the message that shows it."""
        async with self._turn:
            await self._pause(self.limiter.global_wait())
            while (wait := self.limiter.global_wait()) > 0:  # a 429 paused sending meanwhile
                await self._pause(wait)
            self.limiter.take()
        if isinstance(message, View):
            if edit is not None:
                message_id = await edit_or_send(self.transport, chat_id, edit, message)
            else:
                message_id = await self.transport.send_view(chat_id, message)
        else:
            message_id = await self.transport.send_photo(chat_id, message)
        self.limiter.sent(chat_id)
        return message_id

    async def _failed(
        self,
        item: OutboxItem,
        recipient: User,
        error: TransportError,
        *,
        progress: tuple[NotePayload, Progress] | None,
    ) -> None:
        if error.failure is Failure.RETRY_AFTER:
            delay = max(error.retry_after or 1.0, 1.0)
            self.limiter.pause(delay)
            self.stats.rate_limited += 1
            log.warning("Telegram asked to slow down for %.0f s (outbox item %s)", delay, item.id)
            await self._reschedule(item, delay, str(error), count=False, progress=progress)
        elif error.failure is Failure.BLOCKED:
            log.info("user %s blocked the bot: outbox item %s dropped", recipient.id, item.id)
            self._blocked.add(recipient.id)
            await self.crm.users.mark_blocked(recipient.id, blocked=True)
            await self._give_up(item, str(error), status="dead")
        elif error.failure is Failure.REFUSED or item.attempts + 1 >= MAX_ATTEMPTS:
            log.error("outbox item %s given up: %s", item.id, error)
            await self._give_up(item, str(error))
        else:
            delay = retry_delay(item.attempts)
            self.stats.retried += 1
            log.warning("outbox item %s: %s; retrying in %.0f s", item.id, error, delay)
            await self._reschedule(item, delay, str(error), count=True, progress=progress)

    async def _reschedule(
        self,
        item: OutboxItem,
        delay_s: float,
        why: str,
        *,
        count: bool,
        progress: tuple[NotePayload, Progress] | None = None,
    ) -> None:
        await self.crm.outbox.retry_later(
            item.id,
            not_before=self.crm.clock.now() + timedelta(seconds=delay_s),
            error=why,
            count_attempt=count,
            progress=progress,
        )

    async def _give_up(self, item: OutboxItem, why: str, *, status: str = "failed") -> None:
        self.stats.failed += 1
        await self.crm.outbox.give_up(item.id, error=why, status=status)
