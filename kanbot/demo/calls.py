"""The demo's PBX: the page's call buttons become signed ``POST /api/v1/calls`` requests to Kanbot.

The emulator serves these routes (``extra_routes``) and the panel's script; nothing here touches
the CRM's calls directly — a simulated call takes the same path as one from a real PBX.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from crm_core.domain.dialing import CallRequest, Refusal
from crm_core.domain.phones import pretty, try_e164
from crm_core.services import Crm
from kanbot.demo.data import PROVIDER, random_phone
from kanbot.demo.team import MAIN_LINE, OLGA, SELLERS, DemoUser
from telephony_bridge.dialing import Outcome
from telephony_bridge.signing import HEADER, sign

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
STATIC_PREFIX = "/demo/static"
PAGE_EXTENSION = f"{STATIC_PREFIX}/telephony.js"
RING = timedelta(seconds=8)
MAX_REMEMBERED = 500  # simulated calls whose state the page may still ask for
NEW_CALLER_REGIONS = ("london", "dubai", "moscow", "manchester", "abu_dhabi", "spb")


class CallRefused(Exception):
    """Kanbot did not take a simulated call; the message says why, for the page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Target:
    """Where Kanbot listens, and the CRM to describe its answers with."""

    calls_url: str
    crm: Crm


class CallSimulator:
    """Posts simulated calls to Kanbot as a PBX would; an answered call hangs up ``talk_s`` later."""

    def __init__(self, *, secret: str, talk_s: float = 6.0, region: str = "RU") -> None:
        self.secret, self.talk_s, self.region = secret, talk_s, region
        self.target: Target | None = None
        self.states: dict[str, dict[str, Any]] = {}
        self._rng = random.Random()
        self._session: aiohttp.ClientSession | None = None
        self._hangups: set[asyncio.Task[None]] = set()
        self.placed: dict[str, dict[str, Any]] = {}  # calls placed from the cards, by call id

    def attach(self, *, calls_url: str, crm: Crm) -> None:
        """Start taking calls: Kanbot is up at ``calls_url``."""
        self.target = Target(calls_url, crm)

    async def close(self) -> None:
        """Drop the calls still on the line (their hang-up is never sent) and the HTTP session."""
        for task in list(self._hangups):
            task.cancel()
        await asyncio.gather(*self._hangups, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/demo/config", self.on_config),
            web.post("/demo/calls", self.on_call),
            web.get("/demo/calls/{call_id}", self.on_call_state),
            web.get("/demo/placed", self.on_placed),
            web.post("/demo/placed/{call_id}/pick-up", self.on_pick_up),
            web.static(STATIC_PREFIX, STATIC),
        ]

    # -- HTTP handlers ------------------------------------------------------------------------

    async def on_config(self, request: web.Request) -> web.Response:
        """The sellers' extensions, the customers one may call as, and a new caller's number."""
        customers = await self.customers()
        taken = {c["e164"] for c in customers}
        region = self._rng.choice(NEW_CALLER_REGIONS)
        return web.json_response(
            {
                "sellers": [
                    {"name": s.name, "extension": s.extension, "telegram_id": s.telegram_id} for s in SELLERS
                ],
                "customers": customers,
                "new_number": pretty(random_phone(self._rng, region, taken=taken)),
                "main_line": MAIN_LINE,
            }
        )

    async def on_call(self, request: web.Request) -> web.Response:
        """Simulate an incoming call: ``{"kind": "answered" | "missed", "caller", "extension"}``."""
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "Send JSON: {kind, caller, extension}.")
        if not isinstance(body, dict):
            return _error(400, "Send JSON: {kind, caller, extension}.")
        try:
            result = await self.simulate(
                kind=str(body.get("kind", "")),
                caller=str(body.get("caller") or "").strip(),
                extension=str(body.get("extension") or "").strip(),
            )
        except CallRefused as refusal:
            return _error(refusal.status, str(refusal))
        return web.json_response(result)

    async def on_call_state(self, request: web.Request) -> web.Response:
        state = self.states.get(request.match_info["call_id"])
        if state is None:
            return _error(404, "No such simulated call.")
        return web.json_response(state)

    async def on_placed(self, request: web.Request) -> web.Response:
        """The calls placed from the cards whose seller has not picked up yet, newest first."""
        ringing = [c for c in reversed(self.placed.values()) if c["state"] == "ringing"]
        return web.json_response({"calls": ringing})

    async def on_pick_up(self, request: web.Request) -> web.Response:
        """The seller picks up a call placed from a card: the customer is dialled and answers."""
        try:
            return web.json_response(await self.pick_up(request.match_info["call_id"]))
        except CallRefused as refusal:
            return _error(refusal.status, str(refusal))

    # -- calls placed from the cards (the demo PBX as the dialer) -------------------------------

    name = "demo PBX"

    async def place(self, request: CallRequest) -> Outcome:
        """Ring the seller's phone (the panel shows it ringing, with a "Pick up" button)."""
        seller = next((s for s in SELLERS if s.extension == request.extension), None)
        if seller is None:
            return Outcome.refused(Refusal.PBX_REFUSED, f"no phone at extension {request.extension}")
        call_id = f"sim-out-{uuid.uuid4().hex[:12]}"
        self.placed[call_id] = {
            "call_id": call_id,
            "seller": seller.name,
            "seller_telegram_id": seller.telegram_id,
            "extension": seller.extension,
            "number": request.number,
            "phone": pretty(request.number),
            "customer": request.customer_name,
            "state": "ringing",
            "placed_at": datetime.now(UTC).isoformat(),
        }
        while len(self.placed) > MAX_REMEMBERED:
            self.placed.pop(next(iter(self.placed)))
        return Outcome.ok(call_id)

    async def pick_up(self, call_id: str) -> dict[str, Any]:
        """Post the placed call to Kanbot, answered, as the seller's outbound call; it ends later."""
        placed = self.placed.get(call_id)
        if placed is None or placed["state"] != "ringing":
            raise CallRefused("That call is no longer ringing.", 404)
        if self.target is None:
            raise CallRefused("Kanbot is still starting; try again in a moment.", 503)
        now = datetime.now(UTC)
        event: dict[str, Any] = {
            "call_id": call_id,
            "provider": PROVIDER,
            "direction": "outbound",
            "status": "answered",
            "caller": None,
            "dialed": placed["number"],
            "rang": [placed["extension"]],
            "answered_by": placed["extension"],
            "started_at": (now - RING).isoformat(),
            "answered_at": now.isoformat(),
            "ended_at": None,
        }
        outcome = await self.post(event)
        placed["state"] = "on the line"
        self.states[call_id] = {"state": "on the line", "duration_s": None}
        task = asyncio.create_task(self._hang_up(event, answered_at=now), name=f"hang-up {call_id}")
        self._hangups.add(task)
        task.add_done_callback(self._hangups.discard)
        message = (
            f"{placed['seller']} picked up; {placed['phone']} answered. The call is on deal "
            f"#{outcome.get('deal_id')}, and ends in {self.talk_s:.0f} s."
        )
        return placed | {"deal_id": outcome.get("deal_id"), "talk_s": self.talk_s, "message": message}

    # -- calls --------------------------------------------------------------------------------

    async def simulate(self, *, kind: str, caller: str, extension: str) -> dict[str, Any]:
        """Post the call's event(s) to Kanbot and say what it did."""
        if kind not in ("answered", "missed"):
            raise CallRefused('kind must be "answered" or "missed".')
        seller = next((s for s in SELLERS if s.extension == extension), None)
        if seller is None:
            raise CallRefused(f"No seller has extension {extension or '(none)'}.")
        if not caller or len(caller) > 40:
            raise CallRefused("Type the caller's number, e.g. +44 20 7946 0321.")
        if self.target is None:
            raise CallRefused("Kanbot is still starting; try again in a moment.", 503)
        call_id = f"sim-{uuid.uuid4().hex[:12]}"
        now = datetime.now(UTC)
        event = call_event(call_id, caller, seller, answered=kind == "answered", now=now)
        outcome = await self.post(event)
        if kind == "answered":
            self.states[call_id] = {"state": "on the line", "duration_s": None}
            task = asyncio.create_task(self._hang_up(event, answered_at=now), name=f"hang-up {call_id}")
            self._hangups.add(task)
            task.add_done_callback(self._hangups.discard)
        else:
            self.states[call_id] = {"state": "missed", "duration_s": 0}
        while len(self.states) > MAX_REMEMBERED:
            self.states.pop(next(iter(self.states)))  # the oldest: nobody asks about it any more
        return await self.describe(call_id, kind, caller, seller, outcome)

    async def _hang_up(self, event: dict[str, Any], *, answered_at: datetime) -> None:
        await asyncio.sleep(self.talk_s)
        ended_at = datetime.now(UTC)
        duration = max(1, round((ended_at - answered_at).total_seconds()))
        final = event | {"ended_at": ended_at.isoformat(), "duration_s": duration}
        try:
            await self.post(final)
        except CallRefused as refusal:
            log.warning("The simulated call %s could not hang up: %s", event["call_id"], refusal)
            self.states[event["call_id"]] = {"state": "failed", "error": str(refusal), "duration_s": None}
            return
        self.states[event["call_id"]] = {"state": "ended", "duration_s": duration}

    async def post(self, event: dict[str, Any]) -> dict[str, Any]:
        """POST one CallEvent to Kanbot, signed with the shared secret, as an external PBX does."""
        assert self.target is not None
        body = json.dumps(event).encode()
        headers = {"Content-Type": "application/json", HEADER: sign(body, self.secret)}
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        try:
            async with self._session.post(self.target.calls_url, data=body, headers=headers) as response:
                answer = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as error:
            raise CallRefused(f"Kanbot could not be reached: {error or type(error).__name__}.", 502) from None
        if status != 202:
            reason = answer.get("error") if isinstance(answer, dict) else answer
            raise CallRefused(f"Kanbot refused the call ({status}): {reason}", 400 if status < 500 else 502)
        return dict(answer)

    async def describe(
        self, call_id: str, kind: str, caller: str, seller: DemoUser, outcome: dict[str, Any]
    ) -> dict[str, Any]:
        """Kanbot's answer, and what the seller sees because of it, in one sentence."""
        assert self.target is not None
        crm, number = self.target.crm, pretty(try_e164(caller, region=self.region) or caller)
        deal_id, created = outcome.get("deal_id"), bool(outcome.get("created"))
        title = owner = None
        if deal_id is not None:
            boss = await crm.users.identify(OLGA.telegram_id)
            deal = await crm.deals.get(deal_id=int(deal_id), actor=boss)
            title, owner = deal.title, deal.owner.name if deal.owner else None
        whose = f" ({owner}'s)" if owner and owner != seller.name else ""
        if deal_id is None:
            message = f"Kanbot recorded the call from {number}; it made no deal."
        elif kind == "answered":
            what = "a new deal" if created else "their deal"
            message = (
                f"{seller.name} answered {number}: {what} #{deal_id} «{title}»{whose}. "
                f"The card popped up in {seller.name}'s chat; the call ends in {self.talk_s:.0f} s."
            )
        else:
            what = (
                f"a new deal #{deal_id} «{title}» for {owner or 'nobody'}"
                if created
                else (f"deal #{deal_id} «{title}»{whose}")
            )
            message = f"Missed call from {number}: {what}, with a call-back task."
        return {
            "call_id": call_id,
            "kind": kind,
            "deal_id": deal_id,
            "created": created,
            "deal_title": title,
            "owner": owner,
            "seller": seller.name,
            "seller_telegram_id": seller.telegram_id,
            "talk_s": self.talk_s if kind == "answered" else 0,
            "message": message,
        }

    async def customers(self) -> list[dict[str, Any]]:
        """Contacts of open deals, to call as a known customer."""
        if self.target is None:
            return []
        crm = self.target.crm
        boss = await crm.users.identify(OLGA.telegram_id)
        result: dict[str, dict[str, Any]] = {}
        for deal in await crm.deals.list_deals(actor=boss):
            if deal.is_closed or deal.contact is None or not deal.contact.phone:
                continue
            result.setdefault(
                deal.contact.phone,
                {
                    "e164": deal.contact.phone,
                    "phone": pretty(deal.contact.phone),
                    "name": deal.contact.name,
                    "deal": deal.title,
                    "owner": deal.owner.name if deal.owner else None,
                },
            )
        return sorted(result.values(), key=lambda c: str(c["deal"]).casefold())


def call_event(
    call_id: str, caller: str, seller: DemoUser, *, answered: bool, now: datetime
) -> dict[str, Any]:
    """The first (answered: in progress) or only (missed: final) event of a call, as CallEvent JSON."""
    started = now - RING
    event: dict[str, Any] = {
        "call_id": call_id,
        "provider": PROVIDER,
        "direction": "inbound",
        "status": "answered" if answered else "missed",
        "caller": caller,
        "dialed": MAIN_LINE,
        "rang": [seller.extension],
        "started_at": started.isoformat(),
    }
    if answered:
        return event | {"answered_by": seller.extension, "answered_at": now.isoformat(), "ended_at": None}
    return event | {"ended_at": now.isoformat(), "duration_s": 0}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
