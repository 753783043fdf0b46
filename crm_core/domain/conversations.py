"""The small state a conversation keeps: invitations, a chat's open dialog, claims of handled updates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crm_core.domain.users import Role


@dataclass(slots=True)
class Invite:
    id: int
    code: str
    role: Role
    created_by_id: int
    created_at: datetime
    expires_at: datetime
    used_by_id: int | None = None
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    extensions: tuple[str, ...] = ()

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class Holder:
    """A processed key's claim: ``working`` or ``done``, by which process (``None``: unknown), when."""

    state: str
    owner: str | None
    at: datetime


@dataclass(slots=True)
class Dialog:
    subject_id: int
    flow: str
    step: str
    data: dict[str, Any]
    updated_at: datetime
    draft: int = 0  # which draft this is: every write of a dialog is a new one (``DialogService.put``)
