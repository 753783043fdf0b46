"""The chat's bookkeeping: invitations, open dialogs and claims of handled updates."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from crm_core.domain.conversations import Dialog, Holder, Invite


class Invites(Protocol):
    """Invitations to join."""

    async def add(self, invite: Invite) -> Invite: ...

    async def by_code(self, code: str) -> Invite | None: ...

    async def pending(self, now: datetime) -> list[Invite]: ...

    async def mark_used(self, invite_id: int, *, user_id: int, at: datetime) -> bool: ...

    async def revoke(self, invite_id: int, *, at: datetime) -> bool: ...


class Dialogs(Protocol):
    """The open dialog of each chat."""

    async def get(self, subject_id: int) -> Dialog | None: ...

    async def put(self, dialog: Dialog) -> None: ...

    async def drop(self, subject_id: int) -> None: ...

    async def drop_older_than(self, moment: datetime) -> int: ...


class Processed(Protocol):
    """Claims of handled updates and jobs."""

    async def owner_gone(self, owner: str) -> bool: ...

    async def claim(
        self, key: str, *, subject_id: int | None, at: datetime, state: str = "done", owner: str | None = None
    ) -> bool: ...

    async def holder(self, key: str) -> Holder | None: ...

    async def state(self, key: str) -> tuple[str, datetime] | None: ...

    async def set_state(self, key: str, state: str, *, at: datetime) -> None: ...

    async def retake(
        self, key: str, *, was: Holder, at: datetime, owner: str | None, stale_before: datetime | None
    ) -> bool: ...

    async def release(self, key: str) -> None: ...

    async def count_since(self, subject_id: int, since: datetime, *, prefix: str) -> int: ...

    async def forget_older_than(self, moment: datetime) -> int: ...
