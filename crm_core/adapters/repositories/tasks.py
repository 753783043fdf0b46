"""Tasks on deals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.tables import deals, tasks, users
from crm_core.domain.tasks import Task, TaskKind


def task_from_row(row: Row[Any]) -> Task:
    return Task(
        id=row.id,
        deal_id=row.deal_id,
        assignee_id=row.assignee_id,
        due_at=row.due_at,
        text=row.text,
        kind=TaskKind(row.kind),
        created_at=row.created_at,
        created_by_id=row.created_by_id,
        done_at=row.done_at,
        deal_title=row.deal_title,
        assignee_name=row.assignee_name,
        cancelled_at=row.cancelled_at,
        deal_closed=row.deal_closed_at is not None,
        phone=row.phone,
        attempts=row.attempts,
    )


def _task_select() -> Any:
    return select(
        tasks,
        deals.c.title.label("deal_title"),
        deals.c.closed_at.label("deal_closed_at"),
        users.c.name.label("assignee_name"),
    ).select_from(
        tasks.join(deals, deals.c.id == tasks.c.deal_id).outerjoin(users, users.c.id == tasks.c.assignee_id)
    )


# A task is open while it is not done and its deal is open: a won or lost deal's tasks are cancelled
# when it closes, and every list of open tasks also asks for an open deal, so none ever shows one.
OPEN = and_(tasks.c.done_at.is_(None), deals.c.closed_at.is_(None))

# Built once (a missed call adds a task and reads the deal's open ones).
_ADD = insert(tasks)
_OPEN_OF_DEAL = _task_select().where(tasks.c.deal_id == bindparam("deal_id"), OPEN).order_by(tasks.c.due_at)
_NOT_DONE_OF_DEAL = (
    _task_select()
    .where(tasks.c.deal_id == bindparam("deal_id"), tasks.c.done_at.is_(None))
    .order_by(tasks.c.due_at, tasks.c.id)
)

_OPEN_CALL_BACKS_TO = (
    _task_select()
    .where(tasks.c.phone == bindparam("phone"), tasks.c.kind == "call_back", OPEN)
    .order_by(tasks.c.created_at, tasks.c.id)
)


class TaskRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        # A deal's tasks not done, as read in this transaction since its last write of tasks: a move
        # reads them for the deal's follow-up time, and its card shows the next one without a read.
        self._not_done: dict[int, list[Task]] = {}

    def forget(self) -> None:
        """Read again what was kept (the transaction went back to a savepoint)."""
        self._not_done.clear()

    async def add(self, task: Task) -> Task:
        self._not_done.clear()
        result = await self.conn.execute(
            _ADD,
            {
                "deal_id": task.deal_id,
                "assignee_id": task.assignee_id,
                "due_at": task.due_at,
                "text": task.text,
                "kind": task.kind.value,
                "created_at": task.created_at,
                "created_by_id": task.created_by_id,
                "phone": task.phone,
            },
        )
        task.id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return task

    async def get(self, task_id: int) -> Task | None:
        if not 0 < task_id < 2**31:  # ids are INTEGER: int4 on PostgreSQL
            return None
        row = (await self.conn.execute(_task_select().where(tasks.c.id == task_id))).first()
        return task_from_row(row) if row else None

    async def save(self, task: Task) -> None:
        self._not_done.clear()
        await self.conn.execute(
            update(tasks)
            .where(tasks.c.id == task.id)
            .values(
                due_at=task.due_at,
                done_at=task.done_at,
                cancelled_at=task.cancelled_at,
                assignee_id=task.assignee_id,
                text=task.text,
                attempts=task.attempts,
            )
        )

    async def open_call_backs_to(self, phone: str) -> list[Task]:
        """The open call-back tasks about ``phone``, oldest first (whatever deal they are on)."""
        return [task_from_row(r) for r in await self.conn.execute(_OPEN_CALL_BACKS_TO, {"phone": phone})]

    async def reschedule(self, task: Task) -> None:
        """A new due time: the task will be announced again when it comes."""
        self._not_done.clear()
        await self.conn.execute(
            update(tasks)
            .where(tasks.c.id == task.id)
            .values(due_at=task.due_at, notified_at=None, repeated_at=None)
        )

    async def open_for(self, *, assignee_id: int | None, limit: int = 100) -> list[Task]:
        """Open tasks by due time; ``assignee_id=None`` means everyone's."""
        stmt = _task_select().where(OPEN).order_by(tasks.c.due_at, tasks.c.id).limit(limit)
        if assignee_id is not None:
            stmt = stmt.where(tasks.c.assignee_id == assignee_id)
        return [task_from_row(r) for r in await self.conn.execute(stmt)]

    async def open_of_deal(self, deal_id: int) -> list[Task]:
        """The deal's open tasks, soonest due first (none when the deal is closed)."""
        return [task_from_row(r) for r in await self.conn.execute(_OPEN_OF_DEAL, {"deal_id": deal_id})]

    async def not_done_of_deal(self, deal_id: int) -> list[Task]:
        """The deal's tasks not done yet, whatever the deal's state as stored: what its close cancels."""
        known = self._not_done.get(deal_id)
        if known is None:
            rows = await self.conn.execute(_NOT_DONE_OF_DEAL, {"deal_id": deal_id})
            known = self._not_done[deal_id] = [task_from_row(r) for r in rows]
        return list(known)

    async def reassign_open(self, *, deal_id: int, assignee_id: int | None) -> None:
        self._not_done.clear()
        await self.conn.execute(
            update(tasks)
            .where(tasks.c.deal_id == deal_id, tasks.c.done_at.is_(None))
            .values(assignee_id=assignee_id)
        )

    async def due_between(self, start: datetime, end: datetime) -> list[Task]:
        stmt = _task_select().where(OPEN, tasks.c.due_at >= start, tasks.c.due_at < end)
        return [task_from_row(r) for r in await self.conn.execute(stmt.order_by(tasks.c.due_at))]
