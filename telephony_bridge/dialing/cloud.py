"""Cloud PBXs' call-back APIs: the PBX calls the seller's phone first, then the customer.

* Twilio: ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` (HTTP basic auth with the Account SID
  and Auth Token) calls the seller's endpoint (``client:…``, ``sip:…`` or a phone number) and, once it is
  answered, the TwiML ``<Dial>`` dials the customer; its status callbacks report the call.
* Zadarma: ``GET /v1/request/callback/?from=<extension>&to=<number>``, signed as Zadarma's own library
  signs (``Authorization: <key>:<base64 of the hex HMAC-SHA1 of method + query + md5(query)>``).
* Mango Office: ``POST /vpbx/commands/callback`` with ``vpbx_api_key``, ``sign`` (hex SHA-256 of key +
  json + salt) and ``json`` = ``{"command_id", "from": {"extension"}, "to_number"}``.

A PBX that cannot be reached (connection refused, a timeout, a 5xx) is "unreachable"; one that answers
with an error refused the call. Nothing here raises for a PBX's failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape, quoteattr

import aiohttp

from crm_core.domain.dialing import CallRequest, Refusal
from telephony_bridge.dialing import Outcome

_log = logging.getLogger("telephony_bridge.dialing.cloud")
TIMEOUT = aiohttp.ClientTimeout(total=15)


async def _request(
    dialer: str, method: str, url: str, **options: Any
) -> tuple[int, Mapping[str, Any]] | Outcome:
    """The PBX's status and JSON answer, or the refusal that not reaching it is."""
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.request(method, url, **options) as response,
        ):
            text = await response.text()
            status = response.status
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        _log.warning("%s call-back API unreachable: %s", dialer, error or "timeout")
        return Outcome.refused(Refusal.PBX_UNREACHABLE, str(error) or "timeout")
    if status >= 500:
        _log.warning("%s call-back API answered %s", dialer, status)
        return Outcome.refused(Refusal.PBX_UNREACHABLE, f"HTTP {status}")
    try:
        body = json.loads(text) if text.strip() else {}
    except ValueError:
        body = {"message": text[:200]}
    return status, body if isinstance(body, dict) else {"message": str(body)[:200]}


@dataclass(frozen=True, slots=True)
class TwilioDialer:
    account_sid: str
    auth_token: str
    caller_id: str  # a Twilio number (or verified caller id) the customer sees
    status_url: str | None = None  # <public url>/hooks/twilio: the call's status callbacks
    record: bool = False
    api_url: str = "https://api.twilio.com"
    name: str = "twilio"

    def twiml(self, request: CallRequest) -> str:
        recording = ' record="record-from-answer-dual"' if self.record else ""
        if self.record and self.status_url:  # the finished recording is announced to the CRM
            recording += f" recordingStatusCallback={quoteattr(self.status_url)}"
        return (
            f"<Response><Dial callerId={quoteattr(self.caller_id)}{recording}>"
            f"<Number>{escape(request.number)}</Number></Dial></Response>"
        )

    def form(self, request: CallRequest) -> dict[str, str]:
        """The Calls resource's form: ring the seller's endpoint, then ``<Dial>`` the customer."""
        seller = request.extension
        to = seller if seller.startswith(("client:", "sip:", "+")) else f"client:{seller}"
        form = {"To": to, "From": self.caller_id, "Twiml": self.twiml(request)}
        if self.status_url:
            # The URL is signed with each callback, so what it carries is Twilio's word.
            form["StatusCallback"] = f"{self.status_url}?placed_for={quote(request.number)}"
            form["StatusCallbackEvent"] = "answered completed"
        return form

    async def place(self, request: CallRequest) -> Outcome:
        url = f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Calls.json"
        basic = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        headers = {"Authorization": f"Basic {basic}"}
        answer = await _request(self.name, "POST", url, data=self.form(request), headers=headers)
        if isinstance(answer, Outcome):
            return answer
        status, body = answer
        if status in (200, 201) and body.get("sid"):
            return Outcome.ok(str(body["sid"]))
        return Outcome.refused(Refusal.PBX_REFUSED, str(body.get("message") or f"HTTP {status}"))


def zadarma_authorization(method: str, params: Mapping[str, str], key: str, secret: str) -> str:
    """Zadarma's ``Authorization`` header for an API call of ``method`` (``/v1/request/callback/``)."""
    query = urlencode(sorted(params.items()))
    text = method + query + hashlib.md5(query.encode()).hexdigest()  # noqa: S324  # Zadarma's scheme
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).hexdigest()
    return f"{key}:{base64.b64encode(digest.encode()).decode()}"


@dataclass(frozen=True, slots=True)
class ZadarmaDialer:
    key: str
    secret: str
    api_url: str = "https://api.zadarma.com"
    name: str = "zadarma"
    method: str = "/v1/request/callback/"

    async def place(self, request: CallRequest) -> Outcome:
        params = {"from": request.extension, "to": request.number, "format": "json"}
        query = urlencode(sorted(params.items()))
        headers = {"Authorization": zadarma_authorization(self.method, params, self.key, self.secret)}
        answer = await _request(self.name, "GET", f"{self.api_url}{self.method}?{query}", headers=headers)
        if isinstance(answer, Outcome):
            return answer
        status, body = answer
        if status == 200 and body.get("status") == "success":
            return Outcome.ok(None)
        return Outcome.refused(Refusal.PBX_REFUSED, str(body.get("message") or f"HTTP {status}"))


def mango_sign(key: str, payload: str, salt: str) -> str:
    return hashlib.sha256((key + payload + salt).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class MangoDialer:
    key: str
    salt: str
    api_url: str = "https://app.mango-office.ru/vpbx"
    name: str = "mango"

    async def place(self, request: CallRequest) -> Outcome:
        command_id = f"kanbot-dial-{request.id}"
        command = {
            "command_id": command_id,
            "from": {"extension": request.extension},
            "to_number": request.number.lstrip("+"),
        }
        payload = json.dumps(command, separators=(",", ":"))
        form = {"vpbx_api_key": self.key, "sign": mango_sign(self.key, payload, self.salt), "json": payload}
        answer = await _request(self.name, "POST", f"{self.api_url}/commands/callback", data=form)
        if isinstance(answer, Outcome):
            return answer
        status, body = answer
        # Mango answers {"result": 1000} when it accepted the command; other codes say why not.
        if status == 200 and str(body.get("result")) == "1000":
            return Outcome.ok(command_id)
        return Outcome.refused(Refusal.PBX_REFUSED, f"result {body.get('result', status)}")
