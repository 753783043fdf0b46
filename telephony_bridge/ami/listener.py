"""Listen to Asterisk's AMI with panoramisk, feed the call tracker, hand each call to ``on_call``.

The listener owns reconnection (panoramisk's own loop retries at a fixed pace and forgets what it
missed): exponential backoff with jitter, a Ping that must be answered, and an account of the gap.
Calls in flight when the connection drops are closed **from what was seen** once the listener is
back (answered if a seller had been connected, missed otherwise; ``ended_at`` = the moment the link
was lost): their real end happened while nobody was listening, and a call left open forever would
keep its pop-up card and skew the CRM's statistics. The same happens to calls in flight at ``stop``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

from panoramisk import Manager
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from crm_core.domain.calls import CallEvent
from crm_core.domain.phones import mask
from telephony_bridge.ami.backoff import Backoff
from telephony_bridge.ami.tracker import CallTracker
from telephony_bridge.settings import AmiSettings

_log = logging.getLogger("telephony_bridge.ami")
OnCall = Callable[[CallEvent], Awaitable[None]]
_LOGIN_EVENTS = "call,agent"  # what the tracker reads; the manager.conf user needs the same read classes


class _Manager(Manager):  # type: ignore[misc]  # panoramisk has no type hints
    """panoramisk's Manager without its fixed-pace reconnect loop and its unanswered pings."""

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self.lost: asyncio.Future[None] = self.loop.create_future()
        self.login_outcome: asyncio.Future[str] = self.loop.create_future()

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if f.cancelled() or f.exception() is not None:
            _settle(self.login_outcome, f"unreachable ({'cancelled' if f.cancelled() else f.exception()})")
            return
        super().connection_made(f)

    def login(self, future: asyncio.Future[Any]) -> bool:
        authenticated = bool(super().login(future))
        _settle(self.login_outcome, "ok" if authenticated else "refused")
        return authenticated

    def ping(self) -> None:
        """The listener pings on its own and watches for the answer."""

    def connection_lost(self, exc: Exception | None) -> None:
        self._connected = False
        self.authenticated = False
        pinger: asyncio.TimerHandle | None = getattr(self, "pinger", None)
        if pinger is not None:
            pinger.cancel()
        self.pinger = None
        _settle(self.login_outcome, "closed before the login was answered")
        if not self.lost.done():
            self.lost.set_result(None)


async def cancel_and_wait(*tasks: asyncio.Task[None]) -> None:
    """Cancel ``tasks`` and wait for their end, cancelling again should one swallow the first request."""
    while pending := [task for task in tasks if not task.done()]:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=1.0)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            _log.error("AMI listener task %s failed", task.get_name(), exc_info=task.exception())


def _settle(future: asyncio.Future[str], outcome: str) -> None:
    if not future.done():
        future.set_result(outcome)


class AmiListener:
    """Keeps one AMI session alive and turns its events into calls handed to ``on_call``, in order."""

    def __init__(
        self,
        settings: AmiSettings,
        on_call: OnCall,
        *,
        tracker: CallTracker | None = None,
        backoff: Backoff | None = None,
        heartbeat_s: float = 20.0,
        connect_timeout_s: float = 10.0,
        sweep_every_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not settings.ami_username or settings.ami_secret is None:
            raise ValueError("the AMI listener needs KANBOT_AMI_USERNAME and KANBOT_AMI_SECRET")
        self._settings = settings
        self._on_call = on_call
        self._clock = clock
        self.tracker = tracker or CallTracker(settings.tracker_config(), clock=clock)
        self._backoff = backoff or Backoff(initial_s=1.0, max_s=60.0)
        self._heartbeat_s = heartbeat_s
        self._connect_timeout_s = connect_timeout_s
        self._sweep_every_s = sweep_every_s
        self._outbox: asyncio.Queue[CallEvent] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._manager: _Manager | None = None
        self._lost_at: float | None = None
        self.logins = 0  # successful logins so far: 1 + the reconnections

    @property
    def connected(self) -> bool:
        return self._manager is not None and self._manager.authenticated

    async def send_action(self, action: Mapping[str, str]) -> dict[str, str]:
        """Send one action on the session and return Asterisk's first answer to it (``Originate`` with
        ``Async: true`` answers once the call is queued); ``ConnectionError`` when not logged in."""
        manager = self._manager
        if manager is None or not manager.authenticated:
            raise ConnectionError(f"not logged in to AMI at {self._where()}")
        answer = await manager.send_action(dict(action), as_list=False)
        return {str(key): value if isinstance(value, str) else str(value) for key, value in answer.items()}

    async def start(self) -> None:
        """Connect in the background; returns at once (calls start flowing once Asterisk answers)."""
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._run(), name="ami-listener"),
            asyncio.create_task(self._deliver(), name="ami-deliver"),
            asyncio.create_task(self._sweep(), name="ami-sweep"),
        ]

    async def stop(self) -> None:
        """Disconnect, close the calls in flight from what was seen, and hand over every pending call."""
        if not self._tasks:
            return
        run, deliver, sweep = self._tasks
        await cancel_and_wait(run, sweep)
        self._close_manager()
        self._close_calls_in_flight(self._clock(), reason="the bridge stopped")
        await self._outbox.join()
        await cancel_and_wait(deliver)
        self._tasks = []

    async def __aenter__(self) -> AmiListener:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- the session --------------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            manager = await self._connect()
            self._on_login()
            try:
                await self._watch(manager)
            finally:
                self._close_manager()
            self._lost_at = self._clock()
            _log.warning(
                "lost the AMI connection to %s with %d call(s) in flight; reconnecting",
                self._where(),
                self.tracker.in_flight,
            )
            await asyncio.sleep(self._backoff.delay(0))

    async def _connect(self) -> _Manager:
        """Log in, retrying with backoff for as long as Asterisk does not answer or refuses."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((ConnectionError, OSError, TimeoutError)),
            wait=self._backoff.wait(),
            before_sleep=self._next_try,
            reraise=True,
        )
        manager: _Manager = await retrying(self._open)
        return manager

    def _next_try(self, retry_state: RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome is not None else None
        delay = retry_state.upcoming_sleep
        _log.warning("AMI at %s: %s; next try in %.1fs", self._where(), exc, delay)

    async def _open(self) -> _Manager:
        settings = self._settings
        secret = settings.ami_secret.get_secret_value() if settings.ami_secret else ""
        manager = _Manager(
            host=settings.ami_host,
            port=settings.ami_port,
            username=settings.ami_username,
            secret=secret,
            events=_LOGIN_EVENTS,
            loop=asyncio.get_running_loop(),
            ping_delay=3600,
            log=logging.getLogger("telephony_bridge.ami.panoramisk"),
        )
        manager.register_event("*", self._on_event)
        self._manager = manager
        connecting = manager.connect()
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation (stop()).
            async with asyncio.timeout(self._connect_timeout_s):
                outcome = await asyncio.shield(manager.login_outcome)
        except TimeoutError:
            connecting.cancel()
            self._close_manager()
            raise TimeoutError(f"no answer to the login within {self._connect_timeout_s:g}s") from None
        if outcome != "ok":
            self._close_manager()
            if outcome == "refused":
                raise ConnectionRefusedError(
                    f"Asterisk refused the login of {settings.ami_username!r} (check manager.conf)"
                )
            raise ConnectionError(outcome)
        return manager

    async def _watch(self, manager: _Manager) -> None:
        """Return when the connection is lost or stops answering pings."""
        while True:
            done, _ = await asyncio.wait({manager.lost}, timeout=self._heartbeat_s)
            if done:
                return
            ping = manager.send_action({"Action": "Ping"})
            first = asyncio.FIRST_COMPLETED
            await asyncio.wait({manager.lost, ping}, timeout=self._heartbeat_s, return_when=first)
            if manager.lost.done():
                return
            if not ping.done():
                _log.warning("Asterisk did not answer a Ping within %.0fs", self._heartbeat_s)
                return

    def _close_manager(self) -> None:
        manager, self._manager = self._manager, None
        if manager is not None:
            manager.close()

    def _on_login(self) -> None:
        self.logins += 1
        _log.info("listening to AMI at %s as %s", self._where(), self._settings.ami_username)
        if self._lost_at is not None:
            gap = self._clock() - self._lost_at
            _log.warning("AMI was out of reach for %.0fs: calls that began and ended then were not seen", gap)
            self._close_calls_in_flight(self._lost_at, reason="its end was not seen while disconnected")
            self._lost_at = None

    def _close_calls_in_flight(self, ended_at: float, *, reason: str) -> None:
        for call in self.tracker.close_all(ended_at=ended_at):
            _log.warning(
                "call %s from %s (%s): %s; closed as %s%s",
                call.call_id,
                mask(call.caller or call.raw_caller),
                call.direction,
                reason,
                call.status,
                f", answered by {call.answered_by}" if call.answered_by else "",
            )
            self._outbox.put_nowait(call)

    def _where(self) -> str:
        return f"{self._settings.ami_host}:{self._settings.ami_port}"

    # -- events in, calls out -----------------------------------------------------------------------------

    def _on_event(self, _manager: Any, message: Any) -> None:
        event = {
            key: value if isinstance(value, str) else (str(value[-1]) if value else "")
            for key, value in message.items()
        }
        for call in self.tracker.feed(event):
            self._outbox.put_nowait(call)

    async def _deliver(self) -> None:
        while True:
            call = await self._outbox.get()
            try:
                await self._on_call(call)
            except Exception:  # the listener must outlive a failing consumer
                _log.exception("could not hand over call %s", call.call_id)
            finally:
                self._outbox.task_done()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_every_s)
            for call in self.tracker.evict_stale():
                self._outbox.put_nowait(call)
