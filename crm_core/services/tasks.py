"""Tasks: promises with a due time — call back, follow up, anything."""

from __future__ import annotations

from datetime import datetime, timedelta

from crm_core.domain.deals import Deal
from crm_core.domain.errors import DealClosed, InvalidInput, NotAllowed, NotFound, NotTaken, Why
from crm_core.domain.history import Actor, DealEvent, EventKind
from crm_core.domain.horizon import within_horizon
from crm_core.domain.tasks import Task, TaskKind, valid_task_text
from crm_core.domain.users import User
from crm_core.services.base import ServiceBase, require_active
from crm_core.services.unit_of_work import UnitOfWork

# A due time this far in the past is a typo, not a plan.
PAST_TOLERANCE = timedelta(minutes=1)


class TaskService(ServiceBase):
    async def add(
        self,
        *,
        deal_id: int,
        due_at: datetime,
        text: str,
        actor: User,
        kind: TaskKind = TaskKind.CUSTOM,
        assignee_telegram_id: int | None = None,
    ) -> Task:
        """Plan something on a deal; it goes to the deal's owner unless a boss names someone."""
        require_active(actor)
        body = valid_task_text(text, kind)
        now = self.now()
        within_horizon("due time", due_at, now=now)
        if due_at < now - PAST_TOLERANCE:
            raise InvalidInput("due time", due_at.isoformat(), Why.IN_THE_PAST)
        async with self.db.uow() as uow:
            deal = await self._own_deal(uow, deal_id, actor)
            assignee_id = await self._assignee(uow, deal, actor, assignee_telegram_id)
            assignee = await uow.users.get(assignee_id) if assignee_id is not None else None
            task = Task(
                id=0,
                deal_id=deal.id,
                assignee_id=assignee_id,
                due_at=due_at,
                text=body,
                kind=kind,
                created_at=now,
                created_by_id=actor.id,
                deal_title=deal.title,
                assignee_name=assignee.name if assignee else None,
            )
            await uow.tasks.add(task)
            await uow.events.add(
                DealEvent.new(
                    deal,
                    EventKind.TASK_CREATED,
                    now,
                    Actor.of(actor),
                    task_id=task.id,
                    text=body,
                    due_at=due_at.isoformat(),
                    task_kind=kind.value,
                )
            )
            await uow.deals.refresh_follow_up(deal)
            await uow.commit()
        return task

    async def _own_deal(self, uow: UnitOfWork, deal_id: int, actor: User) -> Deal:
        deal = await uow.deals.get_visible(deal_id, viewer=actor)
        if not actor.is_boss and deal.owner_id != actor.id:
            raise NotTaken("plan tasks on")
        if deal.is_closed:  # a won or lost deal has nothing left to do: reopen it first
            raise DealClosed(deal.id)
        return deal

    async def _assignee(
        self, uow: UnitOfWork, deal: Deal, actor: User, telegram_id: int | None
    ) -> int | None:
        if telegram_id is None:
            return deal.owner_id or actor.id
        if not actor.is_boss and telegram_id != actor.telegram_id:
            raise NotAllowed("give tasks to someone else")
        user = await uow.users.by_telegram_id(telegram_id)
        if user is None or not user.active:
            raise NotFound("user", telegram_id)
        return user.id

    async def _task_for(self, uow: UnitOfWork, task_id: int, actor: User) -> tuple[Task, Deal]:
        task = await uow.tasks.get(task_id)
        if task is None:
            raise NotFound("task", task_id)
        try:
            deal = await uow.deals.get_visible(task.deal_id, viewer=actor)
        except NotFound:
            raise NotFound("task", task_id) from None
        if not actor.is_boss and actor.id not in (task.assignee_id, deal.owner_id):
            raise NotFound("task", task_id)
        return task, deal

    async def complete(self, *, task_id: int, actor: User) -> Task:
        """Mark a task done; it counts as activity on its deal."""
        require_active(actor)
        now = self.now()
        async with self.db.uow() as uow:
            task, deal = await self._task_for(uow, task_id, actor)
            task.check_open()
            task.done_at = now
            await uow.tasks.save(task)
            deal.touch(now)
            await uow.events.add(
                DealEvent.new(
                    deal,
                    EventKind.TASK_DONE,
                    now,
                    Actor.of(actor),
                    task_id=task.id,
                    text=task.text,
                    task_kind=task.kind.value,
                    **({"phone": task.phone} if task.phone else {}),
                )
            )
            await uow.deals.save(deal)
            await uow.commit()
        return task

    async def postpone(self, *, task_id: int, until: datetime, actor: User) -> Task:
        """Move an open task's due time later."""
        require_active(actor)
        now = self.now()
        within_horizon("due time", until, now=now)
        if until <= now:
            raise InvalidInput("due time", until.isoformat(), Why.NOT_IN_FUTURE)
        async with self.db.uow() as uow:
            task, deal = await self._task_for(uow, task_id, actor)
            task.check_open()
            task.due_at = until
            await uow.tasks.reschedule(task)
            await uow.deals.refresh_follow_up(deal)
            await uow.commit()
        return task

    async def get(self, *, task_id: int, actor: User) -> Task:
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            return (await self._task_for(uow, task_id, actor))[0]

    async def open_tasks(self, *, actor: User, everyone: bool = False, limit: int = 100) -> list[Task]:
        """The actor's open tasks by due time; bosses may ask for everyone's."""
        require_active(actor)
        if everyone and not actor.is_boss:
            raise NotAllowed("see everyone's tasks")
        async with self.db.uow(write=False) as uow:
            return await uow.tasks.open_for(assignee_id=None if everyone else actor.id, limit=limit)
