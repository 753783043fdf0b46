"""Fetching a recording from the PBX that keeps it, with the credentials of its API.

* Twilio: ``GET <RecordingUrl>.mp3`` with HTTP basic auth (Account SID and Auth Token); only a URL of
  this account's Recordings resource is fetched, so the credentials go nowhere else.
* Zadarma: ``GET /v1/pbx/record/request/?call_id=<call_id_with_rec>&lifetime=180``, signed like every
  Zadarma API call, answers a short-lived ``link`` (or ``links``); the file is then fetched from it.
* Mango Office: ``POST /vpbx/queries/recording/post`` with ``vpbx_api_key``, ``sign`` and ``json`` =
  ``{"recording_id", "action": "download"}`` answers the file (or a redirect to it).

A failure is a ``FetchError``: the CRM tries again later (and gives up after a few hours).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import aiohttp

from crm_core.domain.recordings import MAX_BYTES
from telephony_bridge.dialing.cloud import mango_sign, zadarma_authorization

TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=15)
_CHUNK = 64 * 1024


class FetchError(Exception):
    """The PBX did not give the recording (now)."""


@dataclass(frozen=True, slots=True)
class Audio:
    data: bytes
    mime: str | None


class Fetcher(Protocol):
    @property
    def provider(self) -> str: ...

    async def fetch(self, session: aiohttp.ClientSession, ref: str) -> Audio: ...


async def download(session: aiohttp.ClientSession, method: str, url: str, **options: Any) -> Audio:
    """The audio a URL answers, at most ``MAX_BYTES``; anything else (an error, JSON) is a ``FetchError``."""
    try:
        async with session.request(method, url, timeout=TIMEOUT, **options) as response:
            if response.status != 200:
                raise FetchError(f"HTTP {response.status}: {(await response.text(errors='replace'))[:120]}")
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind in ("application/json", "text/html", "text/plain", "text/xml", "application/xml"):
                raise FetchError(f"not audio ({kind}): {(await response.text(errors='replace'))[:120]}")
            data = bytearray()
            async for chunk in response.content.iter_chunked(_CHUNK):
                data += chunk
                if len(data) > MAX_BYTES:
                    raise FetchError(f"larger than {MAX_BYTES} bytes")
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        raise FetchError(f"{type(error).__name__}: {error}") from None
    if not data:
        raise FetchError("an empty file")
    return Audio(bytes(data), kind or None)


async def _json(session: aiohttp.ClientSession, url: str, headers: Mapping[str, str]) -> dict[str, Any]:
    try:
        async with session.get(url, headers=headers, timeout=TIMEOUT) as response:
            text = await response.text(errors="replace")
            status = response.status
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        raise FetchError(f"{type(error).__name__}: {error}") from None
    try:
        body = json.loads(text)
    except ValueError:
        raise FetchError(f"HTTP {status}: not JSON: {text[:120]}") from None
    if status != 200 or not isinstance(body, dict):
        raise FetchError(f"HTTP {status}: {text[:120]}")
    return body


@dataclass(frozen=True, slots=True)
class TwilioRecordings:
    account_sid: str
    auth_token: str
    api_url: str = "https://api.twilio.com"
    provider: str = "twilio"

    async def fetch(self, session: aiohttp.ClientSession, ref: str) -> Audio:
        own = f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Recordings/"
        if not ref.startswith(own) or "?" in ref or "#" in ref or ".." in urlsplit(ref).path:
            raise FetchError("not a recording of this Twilio account: not fetched")
        basic = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        url = ref if ref.endswith((".mp3", ".wav")) else ref + ".mp3"
        return await download(session, "GET", url, headers={"Authorization": f"Basic {basic}"})


@dataclass(frozen=True, slots=True)
class ZadarmaRecordings:
    key: str
    secret: str
    api_url: str = "https://api.zadarma.com"
    provider: str = "zadarma"
    method: str = "/v1/pbx/record/request/"

    async def fetch(self, session: aiohttp.ClientSession, ref: str) -> Audio:
        params = {"call_id": ref, "lifetime": "180"}
        query = urlencode(sorted(params.items()))
        headers = {"Authorization": zadarma_authorization(self.method, params, self.key, self.secret)}
        answer = await _json(session, f"{self.api_url}{self.method}?{query}", headers)
        links = answer.get("links")
        link = answer.get("link") or (links[0] if isinstance(links, list) and links else None)
        if answer.get("status") != "success" or not isinstance(link, str) or not link.startswith("http"):
            raise FetchError(f"no link to the recording: {str(answer.get('message') or answer)[:120]}")
        return await download(session, "GET", link)


@dataclass(frozen=True, slots=True)
class MangoRecordings:
    key: str
    salt: str
    api_url: str = "https://app.mango-office.ru/vpbx"
    provider: str = "mango"

    async def fetch(self, session: aiohttp.ClientSession, ref: str) -> Audio:
        payload = json.dumps({"recording_id": ref, "action": "download"}, separators=(",", ":"))
        form = {"vpbx_api_key": self.key, "sign": mango_sign(self.key, payload, self.salt), "json": payload}
        return await download(session, "POST", f"{self.api_url}/queries/recording/post", data=form)
