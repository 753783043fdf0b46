"""The signed endpoint a separate bridge hands the CRM the recordings it has (Asterisk's MixMonitor files).

``POST /api/v1/recordings``: the body is the file; the ``X-Kanbot-Recording`` header is a JSON object
``{"provider", "call_id", "file_name", "size", "sha256"}`` and ``X-Kanbot-Signature`` signs that header
like ``POST /api/v1/calls`` (``KANBOT_CALLS_SECRET``). The signature is checked before a byte of the body
is read (nobody else makes the CRM read 50 MB), then the body must have the signed size and SHA-256:
neither the call nor the file can be swapped. 201 when kept (again: the CRM keeps a call's first
recording), 400 for a request it will never take, 503 without the secret or while the database is away.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from crm_core.domain.errors import CrmError, InvalidInput, Unavailable
from crm_core.domain.recordings import MAX_BYTES, RecordingNotice
from telephony_bridge.signing import HEADER, SignatureError, sign, verify

log = logging.getLogger("telephony_bridge.recordings.api")
UPLOAD_PATH = "/api/v1/recordings"
META_HEADER = "X-Kanbot-Recording"
Upload = Callable[[RecordingNotice, bytes, str | None], Awaitable[object]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _meta(raw: str) -> dict[str, object] | None:
    try:
        meta = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(meta, dict) or not all(
        isinstance(meta.get(k), str) for k in ("provider", "call_id", "sha256")
    ):
        return None
    size = meta.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_BYTES:
        return None
    return meta


def recording_routes(*, upload: Upload, secret: str | None) -> list[web.RouteDef]:
    """The upload endpoint, over the CRM's ``upload`` (``RecordingService.upload``)."""

    async def on_upload(request: web.Request) -> web.Response:
        if secret is None:
            return _error(503, "KANBOT_CALLS_SECRET is not set")
        raw = request.headers.get(META_HEADER, "")
        try:
            verify(raw.encode("utf-8", "surrogateescape"), request.headers.get(HEADER), secret)
        except SignatureError as error:
            log.warning("Refused a recording upload: %s", error)
            return _error(401, f"{HEADER}: {error}")
        meta = _meta(raw)
        if meta is None:
            return _error(400, f"{META_HEADER}: provider, call_id, sha256 and a size of 1-{MAX_BYTES} bytes")
        size = int(str(meta["size"]))
        if request.content_length is not None and request.content_length != size:
            return _error(400, "the body is not the signed size")
        body = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) > size:
                return _error(400, "the body is not the signed size")
        if len(body) != size or hashlib.sha256(body).hexdigest() != meta["sha256"]:
            return _error(400, "the body is not the signed file")
        name = meta.get("file_name") if isinstance(meta.get("file_name"), str) else None
        provider, call_id = str(meta["provider"]), str(meta["call_id"])
        notice = RecordingNotice(provider, call_id, str(name or call_id))
        try:
            await upload(notice, bytes(body), str(name) if name else None)
        except InvalidInput as error:
            return _error(400, str(error))
        except Unavailable:
            return _error(503, "the CRM's database is unavailable now; retry later")
        except CrmError as error:
            return _error(422, str(error))
        return web.json_response({"provider": provider, "call_id": call_id}, status=201)

    return [web.post(UPLOAD_PATH, on_upload)]


def signed_headers(
    notice: RecordingNotice, data: bytes, file_name: str | None, secret: str
) -> dict[str, str]:
    """The headers that carry and sign a recording's upload (its body is ``data``)."""
    meta = {
        "provider": notice.provider,
        "call_id": notice.call_id,
        "file_name": file_name,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    raw = json.dumps(meta, separators=(",", ":"))
    return {META_HEADER: raw, HEADER: sign(raw.encode(), secret), "Content-Type": "application/octet-stream"}


class CrmRecordings:
    """The bridge's side: hand the CRM a recording (raises ``ConnectionError`` when it did not take it
    now, ``ValueError`` when it never will)."""

    def __init__(self, session: aiohttp.ClientSession, *, crm_url: str, secret: str) -> None:
        self._session, self._url, self._secret = session, crm_url.rstrip("/") + UPLOAD_PATH, secret
        self._timeout = aiohttp.ClientTimeout(total=120)

    async def upload(self, notice: RecordingNotice, data: bytes, file_name: str | None) -> None:
        headers = signed_headers(notice, data, file_name, self._secret)
        try:
            async with self._session.post(
                self._url, data=data, headers=headers, timeout=self._timeout
            ) as answer:
                text = (await answer.text(errors="replace"))[:200]
                status = answer.status
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise ConnectionError(f"{type(error).__name__}: {error}") from None
        if status >= 500 or status in (408, 429):
            raise ConnectionError(f"the CRM answered {status}: {text}")
        if status >= 400:
            raise ValueError(f"the CRM refused the recording ({status}): {text}")
