"""Deliver spooled calls to the CRM (``POST <crm>/api/v1/calls``), oldest first, one at a time.

2xx: delivered, the call leaves the spool (``duplicate: true`` is a success too: the CRM had it).
408, 429, 5xx, no answer: the CRM is busy or down; the same call is retried with backoff, and the
ones behind it wait, so calls arrive in order. Any other 4xx: the CRM will never take this body;
it is parked in the dead-letter table and logged, and the queue moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging

import aiohttp
from tenacity import AsyncRetrying, retry_if_result

from telephony_bridge.ami.backoff import Backoff
from telephony_bridge.signing import HEADER, sign
from telephony_bridge.spool import Spool, SpooledCall

_log = logging.getLogger("telephony_bridge.sender")
_RETRYABLE_4XX = frozenset({408, 429})


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    PARKED = "parked"


class CallSender:
    """The single sender of one spool: posts its calls to the CRM in spool order."""

    def __init__(
        self,
        spool: Spool,
        *,
        crm_url: str,
        secret: str,
        session: aiohttp.ClientSession,
        backoff: Backoff | None = None,
        request_timeout_s: float = 10.0,
        idle_poll_s: float = 30.0,
    ) -> None:
        self._spool = spool
        self._url = crm_url.rstrip("/") + "/api/v1/calls"
        self._secret = secret
        self._session = session
        self._backoff = backoff or Backoff(initial_s=1.0, max_s=60.0)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout_s)
        self._idle_poll_s = idle_poll_s
        self.delivered = 0

    async def run(self) -> None:
        """Deliver forever: the spool's calls now, new ones as they come, retrying while the CRM is down."""
        retrying = AsyncRetrying(
            retry=retry_if_result(lambda outcome: outcome is Outcome.RETRY), wait=self._backoff.wait()
        )
        while True:
            await retrying(self._deliver_oldest)

    async def _deliver_oldest(self) -> Outcome | None:
        """Deliver the spool's oldest call; with none, wait for one (``None``)."""
        item = await self._spool.oldest()
        if item is None:
            await self._spool.wait_for_new(self._idle_poll_s)
            return None
        return await self.deliver(item)

    async def drain(self, timeout_s: float) -> int:
        """Deliver what can be delivered within ``timeout_s`` without retrying; the rest stays spooled."""
        before = self.delivered
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while (item := await self._spool.oldest()) is not None:
                    if await self.deliver(item) is Outcome.RETRY:
                        break
        left = await self._spool.pending()
        if left:
            _log.warning("%d call(s) stay in the spool %s until the CRM takes them", left, self._spool.path)
        return self.delivered - before

    async def deliver(self, item: SpooledCall) -> Outcome:
        """Post one spooled call and settle it in the spool according to the CRM's answer."""
        outcome, status, detail = await self._post(item)
        if outcome is Outcome.DELIVERED:
            await self._spool.delete(item.spool_id)
            self.delivered += 1
        elif outcome is Outcome.PARKED:
            _log.error("the CRM refused call %s for good (%s): parked as a dead letter", item.call_id, detail)
            await self._spool.park(item.spool_id, status=status, reason=detail)
        else:
            _log.warning("call %s not delivered (%s); will retry", item.call_id, detail)
            await self._spool.note_failure(item.spool_id, detail)
        return outcome

    async def _post(self, item: SpooledCall) -> tuple[Outcome, int | None, str]:
        headers = {"Content-Type": "application/json", HEADER: sign(item.body, self._secret)}
        request = self._session.post(self._url, data=item.body, headers=headers, timeout=self._timeout)
        try:
            async with request as answer:
                text = (await answer.text(errors="replace"))[:500]
                status = answer.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Outcome.RETRY, None, f"{type(exc).__name__}: {exc}"
        if 200 <= status < 300:
            return Outcome.DELIVERED, status, text
        if status >= 500 or status in _RETRYABLE_4XX:
            return Outcome.RETRY, status, f"HTTP {status}"
        return Outcome.PARKED, status, f"HTTP {status}: {text}"
