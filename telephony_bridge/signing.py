"""The ``X-Kanbot-Signature`` of the generic call webhook: ``t=<unix time>,v1=<hex HMAC-SHA256>``.

The HMAC is over ``"<t>.<raw body>"`` with the shared secret, so a body cannot be re-signed with
another time, and a request more than ``tolerance_s`` off the server's clock is refused as a replay.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Kanbot-Signature"
DEFAULT_TOLERANCE_S = 300


class SignatureError(Exception):
    """The request is not signed by someone who knows the secret, or is too old."""


def sign(body: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """Return the header value that signs ``body`` at ``timestamp`` (now by default)."""
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def verify(
    body: bytes,
    header: str | None,
    secret: str,
    *,
    now: float | None = None,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> None:
    """Raise ``SignatureError`` unless ``header`` signs ``body`` with ``secret`` within the tolerance."""
    if not header:
        raise SignatureError("missing signature")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    try:
        moment = int(parts["t"][0])
    except (KeyError, ValueError):
        raise SignatureError("malformed signature") from None
    current = time.time() if now is None else now
    if abs(int(current) - moment) > tolerance_s:  # whole numbers: a 400-digit t is no OverflowError
        raise SignatureError("timestamp outside the tolerance (replay?)")
    expected = hmac.new(secret.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(
        hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in parts.get("v1", [])
    ):
        raise SignatureError("signature mismatch")
