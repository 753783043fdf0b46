"""The signed endpoint a separate bridge hands the CRM the recordings it has (Asterisk's MixMonitor files).

``POST /api/v1/recordings``: the body is one line of JSON, ``{"provider", "call_id", "file_name"}``, a
newline, then the file's bytes; it is signed whole like ``POST /api/v1/calls`` (``X-Kanbot-Signature``
with ``KANBOT_CALLS_SECRET``), so neither the call nor the file can be swapped. 201 when kept (again:
the CRM keeps a call's first recording), 400 for a body it will never take, 503 without the secret or
the recordings directory, or while the database is away.
"""

from __future__ import annotations

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
MAX_HEADER = 4096
Upload = Callable[[RecordingNotice, bytes, str | None], Awaitable[object]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def recording_routes(*, upload: Upload, secret: str | None) -> list[web.RouteDef]:
    """The upload endpoint, over the CRM's ``upload`` (``RecordingService.upload``)."""

    async def on_upload(request: web.Request) -> web.Response:
        if secret is None:
            return _error(503, "KANBOT_CALLS_SECRET is not set")
        limit = MAX_BYTES + MAX_HEADER
        if request.content_length is not None and request.content_length > limit:
            return _error(413, f"body larger than {limit} bytes")
        body = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) > limit:
                return _error(413, f"body larger than {limit} bytes")
        try:
            verify(bytes(body), request.headers.get(HEADER), secret)
        except SignatureError as error:
            log.warning("Refused a recording upload: %s", error)
            return _error(401, f"{HEADER}: {error}")
        head, newline, data = bytes(body).partition(b"\n")
        try:
            meta = json.loads(head) if newline and len(head) <= MAX_HEADER else None
        except ValueError:
            meta = None
        if not isinstance(meta, dict) or not all(
            isinstance(meta.get(k), str) for k in ("provider", "call_id")
        ):
            return _error(400, "the body starts with a JSON line holding provider and call_id")
        name = meta.get("file_name") if isinstance(meta.get("file_name"), str) else None
        notice = RecordingNotice(meta["provider"], meta["call_id"], name or meta["call_id"])
        try:
            await upload(notice, data, name)
        except InvalidInput as error:
            return _error(400, str(error))
        except Unavailable:
            return _error(503, "the CRM's database is unavailable now; retry later")
        except CrmError as error:
            return _error(422, str(error))
        return web.json_response({"provider": notice.provider, "call_id": notice.call_id}, status=201)

    return [web.post(UPLOAD_PATH, on_upload)]


class CrmRecordings:
    """The bridge's side: hand the CRM a recording (raises ``ConnectionError`` when it did not take it
    now, ``ValueError`` when it never will)."""

    def __init__(self, session: aiohttp.ClientSession, *, crm_url: str, secret: str) -> None:
        self._session, self._url, self._secret = session, crm_url.rstrip("/") + UPLOAD_PATH, secret
        self._timeout = aiohttp.ClientTimeout(total=120)

    async def upload(self, notice: RecordingNotice, data: bytes, file_name: str | None) -> None:
        meta = {"provider": notice.provider, "call_id": notice.call_id, "file_name": file_name}
        body = json.dumps(meta).encode() + b"\n" + data
        headers = {HEADER: sign(body, self._secret), "Content-Type": "application/octet-stream"}
        try:
            async with self._session.post(
                self._url, data=body, headers=headers, timeout=self._timeout
            ) as answer:
                text = (await answer.text(errors="replace"))[:200]
                status = answer.status
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise ConnectionError(f"{type(error).__name__}: {error}") from None
        if status >= 500 or status in (408, 429):
            raise ConnectionError(f"the CRM answered {status}: {text}")
        if status >= 400:
            raise ValueError(f"the CRM refused the recording ({status}): {text}")
