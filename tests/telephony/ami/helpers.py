"""Helpers of the Asterisk bridge tests: capture paths, a fake AMI server, a test CRM, a collector."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from telephony_bridge.signing import HEADER, SignatureError, verify

if TYPE_CHECKING:
    from crm_core.domain.calls import CallEvent

REPO = Path(__file__).resolve().parents[3]

DATA = REPO / "tests" / "data" / "ami"
SHARED_CAPTURES = REPO.parent / "shared" / "telephony-captures"
AMI_USER, AMI_SECRET = "kanbot", "k4nb0t-test-ami-secret"
CALLS_SECRET = "k4nb0t-test-calls-secret"


def own_captures() -> list[Path]:
    return sorted(path for path in DATA.iterdir() if not path.name.endswith(".expected.json"))


def expected_for(capture: Path) -> list[dict[str, object]]:
    expected: list[dict[str, object]] = json.loads((DATA / f"{capture.stem}.expected.json").read_text())
    return expected


def wire(events: Iterable[Mapping[str, str]]) -> bytes:
    """The events as Asterisk writes them on the socket."""
    return b"".join(
        "".join(f"{key}: {value}\r\n" for key, value in event.items() if key != "content").encode() + b"\r\n"
        for event in events
    )


class FakeAmi:
    """A tiny Asterisk Manager Interface speaking the wire protocol: banner, Login, Ping, then events."""

    def __init__(self, *, secret: str = AMI_SECRET) -> None:
        self.secret = secret
        self.answer_pings = True
        self.logins = 0
        self.refusals = 0
        self._server: asyncio.Server | None = None
        self._session: asyncio.StreamWriter | None = None
        self._logged_in = asyncio.Condition()
        self.port = 0
        # Originate: what was asked, whether Asterisk takes it, and whether the customer picks up.
        self.originated: list[dict[str, str]] = []
        self.refuse_originate: str | None = None
        self.customer_answers = True
        self._originating = asyncio.Condition()
        self._calls = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/5.0.1\r\n")
        try:
            while (action := await _read_packet(reader)) is not None:
                if not await self._answer(action, writer):
                    break
        except ConnectionError:
            pass
        finally:
            if self._session is writer:
                self._session = None
            writer.close()

    async def _answer(self, action: dict[str, str], writer: asyncio.StreamWriter) -> bool:
        name, action_id = action.get("Action", "").lower(), action.get("ActionID", "")
        if name == "login":
            if action.get("Username") == AMI_USER and action.get("Secret") == self.secret:
                accepted = _packet(Response="Success", ActionID=action_id, Message="Authentication accepted")
                writer.write(accepted)
                await writer.drain()
                async with self._logged_in:
                    self._session = writer
                    self.logins += 1
                    self._logged_in.notify_all()
                return True
            async with self._logged_in:
                self.refusals += 1
                self._logged_in.notify_all()
            writer.write(_packet(Response="Error", ActionID=action_id, Message="Authentication failed"))
            await writer.drain()
            return False  # Asterisk closes the session after a failed login
        if name == "ping":
            if self.answer_pings:
                writer.write(_packet(Response="Success", ActionID=action_id, Ping="Pong", Timestamp="1.0"))
            return True
        if name == "originate":
            await self._originate(action, writer)
            return True
        if name == "logoff":
            writer.write(_packet(Response="Goodbye", ActionID=action_id, Message="Thanks for all the fish."))
            return False
        writer.write(_packet(Response="Error", ActionID=action_id, Message="Invalid/unknown command"))
        return True

    async def _originate(self, action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        """Answer ``Originate`` as Asterisk does with ``Async: true``, then play the call it makes: the
        seller's phone (``Channel``) rings and is picked up, the dialplan dials ``Exten`` through a trunk."""
        action_id = action.get("ActionID", "")
        if self.refuse_originate is not None:
            writer.write(_packet(Response="Error", ActionID=action_id, Message=self.refuse_originate))
            await writer.drain()
            return
        writer.write(_packet(Response="Success", ActionID=action_id, Message="Originate successfully queued"))
        await writer.drain()
        async with self._originating:
            self.originated.append(action)
            self._originating.notify_all()
        self._calls += 1
        await self.send(originated_call(action, sequence=self._calls, customer_answers=self.customer_answers))

    async def wait_for_originate(self, count: int = 1, timeout_s: float = 10.0) -> list[dict[str, str]]:
        async with self._originating:
            await asyncio.wait_for(
                self._originating.wait_for(lambda: len(self.originated) >= count), timeout_s
            )
        return self.originated

    async def wait_for_login(self, count: int, timeout_s: float = 5.0) -> None:
        async with self._logged_in:
            await asyncio.wait_for(self._logged_in.wait_for(lambda: self.logins >= count), timeout_s)

    async def wait_for_refusals(self, count: int, timeout_s: float = 30.0) -> None:
        async with self._logged_in:
            await asyncio.wait_for(self._logged_in.wait_for(lambda: self.refusals >= count), timeout_s)

    async def send(self, events: Iterable[Mapping[str, str]]) -> None:
        assert self._session is not None, "no AMI session is logged in"
        self._session.write(wire(events))
        await self._session.drain()

    async def drop(self) -> None:
        """Close the session from Asterisk's side, as a restart or a network cut would."""
        if self._session is not None:
            self._session.close()
            await self._session.wait_closed()
            self._session = None

    async def close(self) -> None:
        await self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def originated_call(
    action: Mapping[str, str], *, sequence: int, customer_answers: bool = True, talk_s: int = 42
) -> list[dict[str, str]]:
    """The events of the call an ``Originate`` makes: the seller's channel, picked up; the dialplan's
    ``Dial`` of the number through a trunk; the customer's answer (or not); the bridge; the hang-ups."""
    t0 = time.time() - 120  # a call that just ended: every time in the past
    seller_uid, trunk_uid = f"{int(t0)}.{sequence * 2}", f"{int(t0)}.{sequence * 2 + 1}"
    seller, trunk = f"{action['Channel']}-{sequence:08x}", f"PJSIP/provider-{sequence:08x}"
    number, bridge = action["Exten"], f"bridge-{sequence}"

    def at(offset: float) -> str:
        return f"{t0 + offset:.6f}"

    def leg(name: str, uid: str, state: str, context: str, **extra: str) -> dict[str, str]:
        return {
            "Channel": name,
            "ChannelState": state,
            "Context": context,
            "Exten": "s",
            "Uniqueid": uid,
            "Linkedid": seller_uid,
            **extra,
        }

    def me(state: str) -> dict[str, str]:
        return leg(seller, seller_uid, state, action["Context"], CallerIDNum=number)

    def them(state: str) -> dict[str, str]:
        return leg(trunk, trunk_uid, state, "from-trunk", CallerIDNum=number)

    dial = {"DestChannel": trunk, "DestUniqueid": trunk_uid, "DestLinkedid": seller_uid}
    events = [
        {"Event": "Newchannel", "Timestamp": at(0), **me("0")},
        {"Event": "Newstate", "Timestamp": at(0.1), **me("5")},
        {"Event": "Newstate", "Timestamp": at(2), **me("6")},  # the seller picked up
        {
            "Event": "OriginateResponse",
            "Timestamp": at(2),
            "ActionID": action.get("ActionID", ""),
            "Response": "Success",
            "Channel": seller,
            "Uniqueid": seller_uid,
        },
        {"Event": "Newchannel", "Timestamp": at(2.1), **them("0")},
        {"Event": "DialBegin", "Timestamp": at(2.2), **me("6"), **dial, "DialString": f"{number}@provider"},
    ]
    if not customer_answers:
        return [
            *events,
            {"Event": "DialEnd", "Timestamp": at(30), **me("6"), **dial, "DialStatus": "NOANSWER"},
            {"Event": "Hangup", "Timestamp": at(30.1), **them("5"), "Cause": "19"},
            {"Event": "Hangup", "Timestamp": at(30.2), **me("6"), "Cause": "16"},
        ]
    return [
        *events,
        {"Event": "Newstate", "Timestamp": at(8), **them("6")},
        {"Event": "DialEnd", "Timestamp": at(8.1), **me("6"), **dial, "DialStatus": "ANSWER"},
        {"Event": "BridgeEnter", "Timestamp": at(8.2), "BridgeUniqueid": bridge, **them("6")},
        {"Event": "BridgeEnter", "Timestamp": at(8.3), "BridgeUniqueid": bridge, **me("6")},
        {"Event": "BridgeLeave", "Timestamp": at(8 + talk_s), "BridgeUniqueid": bridge, **them("6")},
        {"Event": "Hangup", "Timestamp": at(8.1 + talk_s), **them("6"), "Cause": "16"},
        {"Event": "BridgeLeave", "Timestamp": at(8.2 + talk_s), "BridgeUniqueid": bridge, **me("6")},
        {"Event": "Hangup", "Timestamp": at(8.3 + talk_s), **me("6"), "Cause": "16"},
    ]


async def _read_packet(reader: asyncio.StreamReader) -> dict[str, str] | None:
    packet: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if not line:
            return None
        text = line.decode(errors="replace").rstrip("\r\n")
        if not text:
            if packet:
                return packet
            continue
        key, _, value = text.partition(": ")
        packet[key] = value


def _packet(**fields: str) -> bytes:
    return ("".join(f"{key}: {value}\r\n" for key, value in fields.items()) + "\r\n").encode()


class TestCrm:
    """``POST /api/v1/calls`` as the CRM answers it: checks the signature, records each new body."""

    __test__ = False

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.answer_with: int | None = None  # force this status instead of accepting
        self.reject: set[str] = set()  # call ids answered 422, as a CRM refusing a body for good
        self.accepted: list[dict[str, object]] = []
        self.refused_signatures = 0
        self.requests = 0
        self.recordings: list[tuple[dict[str, object], bytes]] = []  # uploads: their signed header, the file
        self._runner: web.AppRunner | None = None
        self._seen: set[tuple[str, bool]] = set()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/v1/calls", self._calls)
        app.router.add_post("/api/v1/recordings", self._recording)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _recording(self, request: web.Request) -> web.Response:
        meta = request.headers.get("X-Kanbot-Recording", "")
        try:
            verify(meta.encode(), request.headers.get(HEADER), CALLS_SECRET)
        except SignatureError:
            self.refused_signatures += 1
            return web.json_response({"error": "bad signature"}, status=401)
        self.recordings.append((json.loads(meta), await request.read()))
        return web.json_response({}, status=201)

    async def _calls(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.read()
        try:
            verify(body, request.headers.get(HEADER), CALLS_SECRET)
        except SignatureError:
            self.refused_signatures += 1
            return web.json_response({"error": "bad signature"}, status=401)
        if self.answer_with is not None:
            return web.json_response({"error": "forced"}, status=self.answer_with)
        call = json.loads(body)
        if call["call_id"] in self.reject:
            return web.json_response({"error": "unprocessable"}, status=422)
        key = (str(call["call_id"]), call["ended_at"] is not None)
        duplicate = key in self._seen
        self._seen.add(key)
        if not duplicate:
            self.accepted.append(call)
        answer = {"call_id": call["call_id"], "deal_id": 1, "created": not duplicate, "duplicate": duplicate}
        return web.json_response(answer, status=202)


class Collector:
    """An ``on_call`` that keeps what it is given and lets a test wait for it."""

    def __init__(self) -> None:
        self.calls: list[CallEvent] = []
        self._changed = asyncio.Condition()

    async def __call__(self, call: CallEvent) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def wait_for(self, count: int, timeout_s: float = 5.0) -> list[CallEvent]:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.calls) >= count), timeout_s)
        return self.calls


async def eventually(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll what the fakes expose no event for (a counter, a flag)."""
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110  # the states polled here have no event to wait on
            await asyncio.sleep(0.01)
