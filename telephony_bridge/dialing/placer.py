"""The loop that places the CRM's call requests: claim the next ones, hand each to the dialer, report.

``claim`` and ``report`` are the CRM's (in-process: its service; in ``kanbot bridge ami``: the signed
API). A request claimed but not reported (the process died) is claimed again after its lease, so none
is lost; one the dialer placed and whose report failed is reported again until the CRM has it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from crm_core.domain.dialing import CallRequest
from telephony_bridge.dialing import Dialer, Outcome

_log = logging.getLogger("telephony_bridge.dialing")
Claim = Callable[[], Awaitable[list[CallRequest]]]
Report = Callable[[CallRequest, Outcome], Awaitable[None]]


class Placer:
    def __init__(self, dialer: Dialer, *, claim: Claim, report: Report, poll_s: float = 1.0) -> None:
        self.dialer = dialer
        self._claim, self._report = claim, report
        self._poll_s = poll_s
        self.wake = asyncio.Event()  # set it when a request was just made: placed without waiting
        self._unreported: list[tuple[CallRequest, Outcome]] = []

    async def run(self, stop: asyncio.Event) -> None:
        """Place requests until ``stop``; a failing CRM or PBX is logged and retried, never fatal."""
        _log.info("placing calls from the CRM through %s", self.dialer.name)
        while not stop.is_set():
            try:
                await self.place_due()
            except Exception:  # the loop must outlive a CRM outage
                _log.exception("could not take call requests from the CRM; retrying")
            self.wake.clear()
            waits = {asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())}
            _, pending = await asyncio.wait(waits, timeout=self._poll_s, return_when=asyncio.FIRST_COMPLETED)
            for waiting in pending:
                waiting.cancel()

    async def place_due(self) -> int:
        """Report what is left to report, then place every request due now; how many were placed."""
        await self._report_pending()
        count = 0
        while requests := await self._claim():
            for request in requests:
                outcome = await self.dialer.place(request)
                self._unreported.append((request, outcome))
                count += 1
            await self._report_pending()
        return count

    async def _report_pending(self) -> None:
        while self._unreported:
            request, outcome = self._unreported[0]
            await self._report(request, outcome)
            self._unreported.pop(0)
