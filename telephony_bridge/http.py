"""The CRM's HTTP call endpoints: cloud PBX webhooks and the generic call API.

``call_routes(...)`` returns route definitions for the composition root to add to the CRM's
``aiohttp`` application (``app.add_routes(call_routes(ingest=..., settings=...))``):

* ``POST /api/v1/calls`` -- a ``CallEvent`` as JSON, signed with ``X-Kanbot-Signature``; 202.
* ``GET  /api/v1/openapi.json`` -- the OpenAPI 3.1 document of the above and of the signed endpoints
  the composition root serves beside them (``recordings.api``: ``POST /api/v1/recordings``;
  ``dialing.api``: ``POST /api/v1/call-requests/...``).
* ``POST /hooks/twilio`` -- Twilio Voice status callbacks and ``<Dial action>``; 200 empty TwiML.
* ``GET  /hooks/zadarma?zd_echo=X`` -- Zadarma's URL check; ``POST /hooks/zadarma`` -- its notifications.
* ``POST /hooks/mango`` and ``/hooks/mango/{anything}`` -- Mango Office ``events/call``, ``events/summary``...

Each route bounds its body itself (413 from ``Content-Length`` or while streaming, before the
body is read whole), so the limit holds whatever ``client_max_size`` the host application has;
``create_app`` builds a standalone application with both. An endpoint whose secret is unset
answers 503. ``ingest`` errors: ``InvalidInput`` 400, ``CallSealRefused`` 403, other ``CrmError`` 422,
anything else 503 (logged, so the PBX retries; ``ingest`` is idempotent on ``(provider, call_id)``).

Recordings: a notification that names one (Twilio's ``RecordingUrl``, Zadarma's ``call_id_with_rec``,
Mango's ``events/record/added``) is handed to ``note`` (``RecordingService.note``), which keeps it to
fetch later: the request is answered at once, whatever the fetch does.

Zadarma signs only part of a notification: each call event carries that part as its seal, and ``bind``
(``CallService.bind_seal``) binds a ringing notification's seal to its call id before the call is
reported. ``KANBOT_ZADARMA_ALLOWED_IPS`` restricts Zadarma's endpoint to its senders' addresses.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import SecretStr

from crm_core.domain.calls import CallEvent, CallSeal, CallSealRefused, IngestOutcome
from crm_core.domain.errors import CrmError, InvalidInput, Unavailable
from crm_core.domain.phones import mask
from crm_core.domain.recordings import RecordingNotice

from .providers import generic, mango, twilio, zadarma
from .providers.openapi import CALLS_PATH, OPENAPI_PATH, calls_openapi
from .providers.payloads import PayloadError, decode_form, first_values
from .settings import CloudPbxSettings, Network

log = logging.getLogger(__name__)

Ingest = Callable[[CallEvent], Awaitable[IngestOutcome]]
Note = Callable[[RecordingNotice], Awaitable[object]]


class Bind(Protocol):
    """Binds what a PBX signed of a ringing call to the call's id (``CallService.bind_seal``)."""

    def __call__(self, *, provider: str, call_id: str, seal: CallSeal) -> Awaitable[None]: ...


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_CHUNK = 16 * 1024
_MAX_ECHO = 256


@contextlib.contextmanager
def _answered_as_http(what: str, taking: str = "the call") -> Iterator[None]:
    """What the CRM says while taking ``what``, as the HTTP answer a PBX understands: a forged seal 403,
    bad input 400, any other refusal 422; the database away, or anything unforeseen, 503, which the PBX
    (or the bridge) retries rather than drops."""
    try:
        yield
    except CallSealRefused as error:  # a forged event: its signed part is another call's
        raise _Refusal(403, str(error)) from None
    except InvalidInput as error:
        raise _Refusal(400, str(error)) from None
    except Unavailable:  # a CrmError, but no refusal: to be retried
        log.warning("The CRM's database is unavailable: %s refused for now", what)
        raise _Refusal(503, "the CRM's database is unavailable now; retry later") from None
    except CrmError as error:
        raise _Refusal(422, str(error)) from None
    except Exception:
        log.exception("Could not take %s", what)
        raise _Refusal(503, f"the CRM could not take {taking} now; retry later") from None


class _Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def call_routes(
    *,
    ingest: Ingest,
    settings: CloudPbxSettings,
    clock: Callable[[], float] = time.time,
    bind: Bind | None = None,
    note: Note | None = None,
) -> list[web.RouteDef]:
    """Route definitions of every call endpoint, sharing one Mango call tracker.

    ``bind``: binds a ringing Zadarma notification's seal to its call (without it only the answer and
    the end of a call bind theirs). ``note``: keeps the recordings notifications name (without it they
    are ignored)."""
    hooks = _CallHooks(ingest=ingest, settings=settings, clock=clock, bind=bind, note=note)
    return [
        web.post(CALLS_PATH, _guard(hooks.generic)),
        web.get(OPENAPI_PATH, hooks.openapi),
        web.post("/hooks/twilio", _guard(hooks.twilio)),
        web.get("/hooks/zadarma", _guard(hooks.zadarma_echo)),
        web.post("/hooks/zadarma", _guard(hooks.zadarma)),
        web.post("/hooks/mango", _guard(hooks.mango)),
        web.post("/hooks/mango/{event:.+}", _guard(hooks.mango)),
    ]


def create_app(
    *,
    ingest: Ingest,
    settings: CloudPbxSettings,
    clock: Callable[[], float] = time.time,
    bind: Bind | None = None,
    note: Note | None = None,
) -> web.Application:
    """A standalone application serving only the call endpoints."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    app.add_routes(call_routes(ingest=ingest, settings=settings, clock=clock, bind=bind, note=note))
    return app


def sender_address(
    request: web.Request, trusted_proxies: Sequence[Network]
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a request came from: the connection's peer, or, when the peer is a trusted proxy,
    the last address in ``X-Forwarded-For`` that is not one (``None`` when it cannot be read)."""
    address = _address(request.remote)
    if address is None or not _within(address, trusted_proxies):
        return address
    hops = [
        hop.strip() for value in request.headers.getall("X-Forwarded-For", []) for hop in value.split(",")
    ]
    for hop in reversed(hops):
        forwarded = _address(hop)
        if forwarded is None:
            return None
        if not _within(forwarded, trusted_proxies):
            return forwarded
        address = forwarded
    return address


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:185.45.152.42 on a dual-stack socket
    return address


def _within(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def _guard(handler: Handler) -> Handler:
    """Turn refusals and malformed payloads into JSON errors: bad input is never a 500."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except _Refusal as refusal:
            return _error(refusal.status, refusal.message)
        except PayloadError as error:
            log.info("Refused a malformed payload on %s: %s", request.path, error.reason)
            return _error(400, error.reason)

    return guarded


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class _CallHooks:
    def __init__(
        self,
        *,
        ingest: Ingest,
        settings: CloudPbxSettings,
        clock: Callable[[], float],
        bind: Bind | None,
        note: Note | None = None,
    ) -> None:
        self._ingest_call, self._settings, self._clock, self._bind = ingest, settings, clock, bind
        self._note = note
        self._region = settings.default_region
        self._zadarma_tz = ZoneInfo(settings.zadarma_timezone)
        self._mango_calls = mango.MangoCallTracker()
        self._openapi = calls_openapi()

    async def openapi(self, request: web.Request) -> web.Response:
        """Serve the OpenAPI document of the generic call endpoint."""
        return web.json_response(self._openapi)

    async def generic(self, request: web.Request) -> web.Response:
        """Ingest one signed ``CallEvent`` posted as JSON."""
        secret = self._secret(self._settings.calls_secret, "KANBOT_CALLS_SECRET", "generic")
        body = await self._body(request)
        try:
            generic.verify_generic(
                body, request.headers.get(generic.SIGNATURE_HEADER), secret, now=self._clock()
            )
        except generic.SignatureError as error:
            log.warning("Refused a call on %s: %s", CALLS_PATH, error)
            raise _Refusal(401, f"{generic.SIGNATURE_HEADER}: {error}") from None
        events = generic.parse_generic(mango.json_object(body, "body"), region=self._region)
        outcomes = await self._ingest(events)
        return web.json_response(outcomes[0].to_json(), status=202)

    async def twilio(self, request: web.Request) -> web.Response:
        """Ingest a Twilio Voice status callback; answer an empty TwiML document."""
        token = self._secret(self._settings.twilio_auth_token, "KANBOT_TWILIO_AUTH_TOKEN", "Twilio")
        pairs = decode_form(await self._body(request))
        url = self._public_url(request)
        if not twilio.verify_twilio(url, pairs, request.headers.get(twilio.SIGNATURE_HEADER), token):
            log.warning("Refused a Twilio webhook: bad %s for %s", twilio.SIGNATURE_HEADER, url)
            raise _Refusal(403, f"{twilio.SIGNATURE_HEADER} does not sign this request")
        form = first_values(pairs)
        placed_for = request.query.get("placed_for")  # a call placed from the CRM (the URL is signed)
        await self._ingest(
            twilio.parse_twilio(form, region=self._region, received_at=self._now(), placed_for=placed_for)
        )
        await self._recording(twilio.recording_of_twilio(form))
        return web.Response(text=twilio.EMPTY_TWIML, content_type="text/xml")

    async def zadarma_echo(self, request: web.Request) -> web.Response:
        """Answer Zadarma's check of the notification URL with the ``zd_echo`` it sent."""
        self._secret(self._settings.zadarma_secret, "KANBOT_ZADARMA_SECRET", "Zadarma")
        self._zadarma_sender(request)
        echo = request.query.get("zd_echo", "")
        if not echo or len(echo) > _MAX_ECHO:
            raise _Refusal(400, f"zd_echo: missing or longer than {_MAX_ECHO} characters")
        return web.Response(text=echo, content_type="text/plain")

    async def zadarma(self, request: web.Request) -> web.Response:
        """Ingest a Zadarma PBX notification."""
        secret = self._secret(self._settings.zadarma_secret, "KANBOT_ZADARMA_SECRET", "Zadarma")
        self._zadarma_sender(request)
        form = first_values(decode_form(await self._body(request)))
        if not form.get("event"):
            raise PayloadError("event: missing")
        if not zadarma.is_known_event(form):
            log.debug("Ignored a Zadarma notification that is not about a call")
            return web.Response(text="")
        if not zadarma.verify_zadarma(form, request.headers.get(zadarma.SIGNATURE_HEADER), secret):
            log.warning("Refused a Zadarma webhook: bad %s", zadarma.SIGNATURE_HEADER)
            raise _Refusal(401, f"{zadarma.SIGNATURE_HEADER} does not sign this notification")
        events = zadarma.parse_zadarma(
            form, region=self._region, tz=self._zadarma_tz, received_at=self._now()
        )
        seal, call_id = zadarma.call_seal(form), form.get("pbx_call_id", "")
        if not events and seal is not None and call_id and self._bind is not None:
            await self._bound(call_id[:128], seal)  # ringing: the call's first sight
        await self._ingest(events)
        await self._recording(zadarma.recording_of_zadarma(form))
        return web.Response(text="")

    def _zadarma_sender(self, request: web.Request) -> None:
        """Refuse a request from outside ``KANBOT_ZADARMA_ALLOWED_IPS`` (when it is set)."""
        allowed = self._settings.zadarma_allowed_ips
        if not allowed:
            return
        sender = sender_address(request, self._settings.trusted_proxies)
        if sender is None or not _within(sender, allowed):
            log.warning("Refused a Zadarma request from %s: not in KANBOT_ZADARMA_ALLOWED_IPS", sender)
            raise _Refusal(
                403, "this address may not post Zadarma notifications (KANBOT_ZADARMA_ALLOWED_IPS)"
            )

    async def _bound(self, call_id: str, seal: CallSeal) -> None:
        """Bind a ringing notification's seal to its call: refused as a forgery, or to be retried."""
        assert self._bind is not None
        with _answered_as_http(f"the signed fields of Zadarma call {call_id[:40]!r}"):
            await self._bind(provider=zadarma.PROVIDER, call_id=call_id, seal=seal)

    async def mango(self, request: web.Request) -> web.Response:
        """Ingest a Mango Office notification (call legs, summaries; others are acknowledged)."""
        api_key = self._secret(self._settings.mango_api_key, "KANBOT_MANGO_API_KEY", "Mango Office")
        api_salt = self._secret(self._settings.mango_api_salt, "KANBOT_MANGO_API_SALT", "Mango Office")
        form = first_values(decode_form(await self._body(request)))
        if not mango.verify_mango(form, api_key=api_key, api_salt=api_salt):
            log.warning("Refused a Mango Office webhook on %s: bad vpbx_api_key or sign", request.path)
            raise _Refusal(401, "vpbx_api_key or sign does not match")
        event = mango.decode_json_field(form)
        await self._ingest(mango.parse_mango(event, region=self._region, tracker=self._mango_calls))
        await self._recording(mango.recording_of_mango(event))
        return web.Response(text="")

    async def _recording(self, notice: RecordingNotice | None) -> None:
        """Keep the recording a notification names, to fetch later (the CRM away: the PBX retries)."""
        if notice is None or self._note is None:
            return
        with _answered_as_http(f"the recording of {notice.provider} call {notice.call_id}", "the recording"):
            await self._note(notice)

    async def _ingest(self, events: list[CallEvent]) -> list[IngestOutcome]:
        outcomes = []
        for event in events:
            with _answered_as_http(f"{event.provider} call {event.call_id}"):
                outcome = await self._ingest_call(event)
            log.info(
                "Ingested %s %s %s call %s from %s: deal %s%s",
                event.provider,
                "final" if event.is_final else "in-progress",
                event.direction.value,
                event.call_id,
                mask(event.caller),
                outcome.deal_id,
                " (duplicate)" if outcome.duplicate else "",
            )
            outcomes.append(outcome)
        return outcomes

    async def _body(self, request: web.Request) -> bytes:
        """The body, refused with 413 as soon as it is known to pass the limit."""
        limit = self._settings.max_body_bytes
        too_large = _Refusal(413, f"body larger than {limit} bytes")
        if request.content_length is not None and request.content_length > limit:
            raise too_large
        body = bytearray()
        async for chunk in request.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > limit:
                raise too_large
        return bytes(body)

    def _public_url(self, request: web.Request) -> str:
        """The URL the PBX called: ``KANBOT_PUBLIC_URL`` + path and query when behind a proxy."""
        base = self._settings.public_url or f"{request.scheme}://{request.host}"
        return base + request.raw_path

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), tz=UTC)

    @staticmethod
    def _secret(value: SecretStr | None, variable: str, what: str) -> str:
        if value is None:
            log.warning("Refused a %s request: not configured (set %s)", what, variable)
            raise _Refusal(503, f"not configured: set {variable}")
        return value.get_secret_value()
