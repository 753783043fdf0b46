"""Personal API tokens: a user's key to the REST API, acting with exactly the user's access.

Only a digest of the secret is kept: the secret itself is shown once, when the token is made.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from crm_core.domain.errors import CrmError

TOKEN_PREFIX = "kbt_"  # noqa: S105  (a prefix that makes a token recognisable, not a secret)
NAME_MOST = 100
IDEMPOTENCY_KEY_MOST = 200


class TokenScope(enum.StrEnum):
    READ = "read"  # reads only
    WRITE = "write"  # reads and writes


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    user_id: int
    user_telegram_id: int
    user_name: str
    name: str
    scope: TokenScope
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def usable_at(self, moment: datetime) -> bool:
        """Neither revoked nor expired at ``moment``."""
        return self.revoked_at is None and (self.expires_at is None or moment < self.expires_at)


def new_secret() -> str:
    """A fresh token secret, recognisable by its prefix (``kbt_...``) in a config file or a leak scan."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is stored of a secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class NotAuthenticated(CrmError):
    """No token, an unknown one, an expired or a revoked one: the caller is nobody."""

    code = "unauthenticated"

    def __init__(self, why: str) -> None:
        super().__init__(f"Not authenticated: {why}.", why=why)
        self.why = why


class IdempotencyMismatch(CrmError):
    """An ``Idempotency-Key`` used before with another request."""

    code = "idempotency_mismatch"

    def __init__(self, key: str) -> None:
        super().__init__(f"The Idempotency-Key {key!r} was used with another request.", key=key)


class IdempotencyBusy(CrmError):
    """The first request with this ``Idempotency-Key`` is still being answered."""

    code = "idempotency_busy"

    def __init__(self, key: str) -> None:
        super().__init__(f"A request with the Idempotency-Key {key!r} is still in progress.", key=key)


@dataclass(frozen=True, slots=True)
class Recorded:
    """A request's answer kept under its ``Idempotency-Key``; ``status`` None while in progress."""

    fingerprint: str
    status: int | None
    body: object
