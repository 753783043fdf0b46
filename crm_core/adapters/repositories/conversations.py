"""Invitations, dialog state and processed keys: the small state a conversational front end needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.liveness import Liveness
from crm_core.adapters.sqlfunc import upsert
from crm_core.adapters.tables import dialogs, invites, processed
from crm_core.domain.conversations import Dialog, Holder, Invite
from crm_core.domain.users import Role

DRAFT_KEY = "_draft"  # where a dialog's draft number is stored, in its data


# The handled-updates ledger is written twice and read once by every update from the chat: its
# statements are built once, with bound parameters, and SQLAlchemy only looks up their compiled form.
_CLAIM = {
    "postgresql": pg_insert(processed).on_conflict_do_nothing(index_elements=["key"]),
    "sqlite": sqlite_insert(processed).on_conflict_do_nothing(index_elements=["key"]),
}
_SET_STATE = update(processed).where(processed.c.key == bindparam("match_key"))  # SET: state, at
COUNT_SINCE = _COUNT_SINCE = select(func.count()).where(
    processed.c.subject_id == bindparam("subject_id"),
    processed.c.at >= bindparam("since"),
    processed.c.key.like(bindparam("pattern")),
)


def _invite(row: Row[Any]) -> Invite:
    return Invite(
        row.id,
        row.code,
        Role(row.role),
        row.created_by_id,
        row.created_at,
        row.expires_at,
        row.used_by_id,
        row.used_at,
        row.revoked_at,
        tuple(row.extensions.split(",")) if row.extensions else (),
    )


class InviteRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, invite: Invite) -> Invite:
        result = await self.conn.execute(
            insert(invites).values(
                code=invite.code,
                role=invite.role.value,
                created_by_id=invite.created_by_id,
                created_at=invite.created_at,
                expires_at=invite.expires_at,
                extensions=",".join(invite.extensions) or None,
            )
        )
        invite.id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return invite

    async def by_code(self, code: str) -> Invite | None:
        row = (await self.conn.execute(select(invites).where(invites.c.code == code))).first()
        return None if row is None else _invite(row)

    async def pending(self, now: datetime) -> list[Invite]:
        rows = await self.conn.execute(
            select(invites)
            .where(invites.c.used_at.is_(None), invites.c.revoked_at.is_(None), invites.c.expires_at > now)
            .order_by(invites.c.created_at)
        )
        return [_invite(r) for r in rows]

    async def mark_used(self, invite_id: int, *, user_id: int, at: datetime) -> bool:
        """Use the invitation once: only the first of two racing redemptions succeeds."""
        result = await self.conn.execute(
            update(invites)
            .where(invites.c.id == invite_id, invites.c.used_at.is_(None), invites.c.revoked_at.is_(None))
            .values(used_by_id=user_id, used_at=at)
        )
        return bool(result.rowcount)

    async def revoke(self, invite_id: int, *, at: datetime) -> bool:
        if not 0 < invite_id < 2**31:  # ids are INTEGER: int4 on PostgreSQL
            return False
        result = await self.conn.execute(
            update(invites)
            .where(invites.c.id == invite_id, invites.c.used_at.is_(None), invites.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)


class DialogRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, subject_id: int) -> Dialog | None:
        row = (await self.conn.execute(select(dialogs).where(dialogs.c.subject_id == subject_id))).first()
        if row is None:
            return None
        data = dict(row.data)
        draft = int(data.pop(DRAFT_KEY, 0))
        return Dialog(row.subject_id, row.flow, row.step, data, row.updated_at, draft)

    async def put(self, dialog: Dialog) -> None:
        values = {
            "flow": dialog.flow,
            "step": dialog.step,
            "data": {**dialog.data, DRAFT_KEY: dialog.draft},  # kept beside the data, no column of its own
            "updated_at": dialog.updated_at,
        }
        stmt = upsert(self.conn, dialogs).values(subject_id=dialog.subject_id, **values)
        await self.conn.execute(stmt.on_conflict_do_update(index_elements=["subject_id"], set_=values))

    async def drop(self, subject_id: int) -> None:
        await self.conn.execute(delete(dialogs).where(dialogs.c.subject_id == subject_id))

    async def drop_older_than(self, moment: datetime) -> int:
        result = await self.conn.execute(delete(dialogs).where(dialogs.c.updated_at < moment))
        return int(result.rowcount or 0)


class ProcessedRepository:
    def __init__(self, conn: AsyncConnection, liveness: Liveness | None = None) -> None:
        self.conn, self.liveness = conn, liveness

    async def owner_gone(self, owner: str) -> bool:
        """Whether the process that wrote ``owner`` on a claim has died."""
        return self.liveness is not None and await self.liveness.gone(self.conn, owner)

    async def claim(
        self,
        key: str,
        *,
        subject_id: int | None,
        at: datetime,
        state: str = "done",
        owner: str | None = None,
    ) -> bool:
        """Record ``key``; ``False`` when it was recorded before (the work was done, or is being done)."""
        stmt = _CLAIM["postgresql" if self.conn.dialect.name == "postgresql" else "sqlite"]
        values = {"key": key, "subject_id": subject_id, "state": state, "at": at, "owner": owner}
        result = await self.conn.execute(stmt, values)
        return bool(result.rowcount)

    async def holder(self, key: str) -> Holder | None:
        """Who recorded ``key``, in which state, when."""
        row = (
            await self.conn.execute(
                select(processed.c.state, processed.c.owner, processed.c.at).where(processed.c.key == key)
            )
        ).first()
        return Holder(row.state, row.owner, row.at) if row else None

    async def state(self, key: str) -> tuple[str, datetime] | None:
        row = (
            await self.conn.execute(select(processed.c.state, processed.c.at).where(processed.c.key == key))
        ).first()
        return (row.state, row.at) if row else None

    async def set_state(self, key: str, state: str, *, at: datetime) -> None:
        await self.conn.execute(_SET_STATE, {"match_key": key, "state": state, "at": at})

    async def retake(
        self, key: str, *, was: Holder, at: datetime, owner: str | None, stale_before: datetime | None
    ) -> bool:
        """Take over work claimed as ``was`` says, its process gone (``stale_before``: known by the
        claim's age); ``False`` when the claim changed meanwhile (taken over first, or done)."""
        claim = [processed.c.key == key, processed.c.state == "working"]
        if stale_before is not None:
            claim.append(processed.c.at < stale_before)
        if was.owner is not None:
            claim.append(processed.c.owner == was.owner)
        result = await self.conn.execute(update(processed).where(*claim).values(at=at, owner=owner))
        return bool(result.rowcount)

    async def release(self, key: str) -> None:
        await self.conn.execute(delete(processed).where(processed.c.key == key))

    async def count_since(self, subject_id: int, since: datetime, *, prefix: str) -> int:
        params = {"subject_id": subject_id, "since": since, "pattern": prefix + "%"}
        return int(await self.conn.scalar(_COUNT_SINCE, params) or 0)

    async def forget_older_than(self, moment: datetime) -> int:
        result = await self.conn.execute(delete(processed).where(processed.c.at < moment))
        return int(result.rowcount or 0)
