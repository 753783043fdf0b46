"""Follow-up bookkeeping: which stale periods were reminded and escalated, which tasks announced,
and each person's follow-up preferences. Every claim is one atomic statement, so several processes
ticking together never send the same thing twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.tables import deal_followups, deals, tasks, user_settings, users
from crm_core.domain.preferences import Preferences, Reminded


class FollowUpRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    def _insert(self) -> Any:
        return (
            pg_insert(deal_followups)
            if self.conn.dialect.name == "postgresql"
            else sqlite_insert(deal_followups)
        )

    async def claim_reminder(self, deal_id: int, stale_since: datetime, *, at: datetime) -> bool:
        """Take the reminder of this stale period; ``False`` if someone already took it."""
        stmt = self._insert().values(deal_id=deal_id, stale_since=stale_since, reminded_at=at)
        result = await self.conn.execute(
            stmt.on_conflict_do_nothing(index_elements=["deal_id", "stale_since"])
        )
        return bool(result.rowcount)

    async def reminded_still_stale(self, *, limit: int = 500) -> list[Reminded]:
        """Reminded, not escalated, and still in the same stale period (nothing happened since)."""
        rows = await self.conn.execute(
            select(deal_followups.c.deal_id, deal_followups.c.stale_since, deal_followups.c.reminded_at)
            .join(deals, deals.c.id == deal_followups.c.deal_id)
            .where(
                deal_followups.c.escalated_at.is_(None),
                deals.c.closed_at.is_(None),
                deals.c.follow_up_due_at == deal_followups.c.stale_since,
            )
            .order_by(deal_followups.c.reminded_at)
            .limit(limit)
        )
        return [Reminded(*r) for r in rows]

    async def claim_escalation(self, deal_id: int, stale_since: datetime, *, at: datetime) -> bool:
        result = await self.conn.execute(
            update(deal_followups)
            .where(
                deal_followups.c.deal_id == deal_id,
                deal_followups.c.stale_since == stale_since,
                deal_followups.c.escalated_at.is_(None),
            )
            .values(escalated_at=at)
        )
        return bool(result.rowcount)

    async def due_tasks(self, now: datetime, *, limit: int = 500) -> list[tuple[int, int, str, datetime]]:
        """Open, assigned tasks due by ``now`` whose assignee was not told yet: (id, assignee, kind, due)."""
        rows = await self.conn.execute(
            select(tasks.c.id, tasks.c.assignee_id, tasks.c.kind, tasks.c.due_at)
            .join(users, users.c.id == tasks.c.assignee_id)
            .join(deals, deals.c.id == tasks.c.deal_id)
            .where(
                tasks.c.done_at.is_(None),
                deals.c.closed_at.is_(None),
                tasks.c.notified_at.is_(None),
                tasks.c.due_at <= now,
                users.c.active.is_(True),
            )
            .order_by(tasks.c.due_at)
            .limit(limit)
        )
        return [tuple(r) for r in rows]

    async def claim_task_notice(self, task_id: int, *, at: datetime) -> bool:
        result = await self.conn.execute(
            update(tasks).where(tasks.c.id == task_id, tasks.c.notified_at.is_(None)).values(notified_at=at)
        )
        return bool(result.rowcount)

    async def call_backs_to_repeat(
        self, notified_before: datetime, *, limit: int = 500
    ) -> list[tuple[int, int]]:
        """Call-back tasks announced long enough ago and still open, never repeated: (id, assignee)."""
        rows = await self.conn.execute(
            select(tasks.c.id, tasks.c.assignee_id)
            .join(deals, deals.c.id == tasks.c.deal_id)
            .where(
                tasks.c.kind == "call_back",
                tasks.c.done_at.is_(None),
                deals.c.closed_at.is_(None),
                tasks.c.repeated_at.is_(None),
                tasks.c.notified_at <= notified_before,
                tasks.c.assignee_id.is_not(None),
            )
            .limit(limit)
        )
        return [tuple(r) for r in rows]

    async def claim_repeat(self, task_id: int, *, at: datetime) -> bool:
        result = await self.conn.execute(
            update(tasks).where(tasks.c.id == task_id, tasks.c.repeated_at.is_(None)).values(repeated_at=at)
        )
        return bool(result.rowcount)

    async def preferences(self, user_id: int) -> Preferences:
        row = (
            await self.conn.execute(select(user_settings).where(user_settings.c.user_id == user_id))
        ).first()
        if row is None:
            return Preferences(user_id)
        return Preferences(
            row.user_id,
            row.digest_time,
            row.digest_enabled,
            row.morning_plan_enabled,
            row.last_digest_on,
            row.last_digest_at,
            row.last_morning_on,
            row.morning_time,
            row.last_pipeline_id,
        )

    async def ensure_preferences(self, user_id: int) -> None:
        stmt = (
            pg_insert(user_settings)
            if self.conn.dialect.name == "postgresql"
            else sqlite_insert(user_settings)
        )
        await self.conn.execute(
            stmt.values(user_id=user_id).on_conflict_do_nothing(index_elements=["user_id"])
        )

    async def save_preferences(self, prefs: Preferences) -> None:
        await self.ensure_preferences(prefs.user_id)
        await self.conn.execute(
            update(user_settings)
            .where(user_settings.c.user_id == prefs.user_id)
            .values(
                digest_time=prefs.digest_time,
                digest_enabled=prefs.digest_enabled,
                morning_plan_enabled=prefs.morning_plan_enabled,
                morning_time=prefs.morning_time,
            )
        )

    async def remember_pipeline(self, user_id: int, pipeline_id: int) -> None:
        await self.ensure_preferences(user_id)
        await self.conn.execute(
            update(user_settings)
            .where(user_settings.c.user_id == user_id)
            .values(last_pipeline_id=pipeline_id)
        )

    async def claim_morning(self, user_id: int, day: str) -> bool:
        """Take today's morning plan for the user (``day`` is their local date)."""
        await self.ensure_preferences(user_id)
        result = await self.conn.execute(
            update(user_settings)
            .where(
                user_settings.c.user_id == user_id,
                or_(user_settings.c.last_morning_on.is_(None), user_settings.c.last_morning_on != day),
            )
            .values(last_morning_on=day)
        )
        return bool(result.rowcount)

    async def claim_digest(self, user_id: int, day: str, *, at: datetime) -> tuple[bool, datetime | None]:
        """Take today's digest for the user; also returns when the previous one was sent."""
        await self.ensure_preferences(user_id)
        previous = await self.conn.scalar(
            select(user_settings.c.last_digest_at).where(user_settings.c.user_id == user_id)
        )
        result = await self.conn.execute(
            update(user_settings)
            .where(
                user_settings.c.user_id == user_id,
                or_(user_settings.c.last_digest_on.is_(None), user_settings.c.last_digest_on != day),
            )
            .values(last_digest_on=day, last_digest_at=at)
        )
        return bool(result.rowcount), previous
