"""Changing a deal: moves, wins and losses, reopens, reassigning, taking, notes, priority, snoozes.

Each change runs through ``DealChanges._change``: the deal read in the actor's scope, its version
checked, the change applied by the domain, its history written, the deal saved, in one transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from crm_core.domain.deals import Deal, Priority
from crm_core.domain.errors import (
    Conflict,
    CrmError,
    DealClosed,
    InvalidInput,
    NotFound,
    NotTaken,
    StaleVersion,
    Why,
)
from crm_core.domain.fields import FieldEntity, FieldsRequired, missing_for_move
from crm_core.domain.funnel import Pipeline, Stage
from crm_core.domain.history import Actor, DealEvent, EventKind, last_undoable
from crm_core.domain.notifications import DealAssigned, Notification
from crm_core.domain.users import User
from crm_core.domain.values import valid_note
from crm_core.services.base import ServiceBase, find_pipeline, pipeline_of, require_active, require_boss
from crm_core.services.unit_of_work import UnitOfWork

Change = Callable[[UnitOfWork, Deal, Pipeline], Awaitable[list[DealEvent]]]


class DealChanges(ServiceBase):
    """The changes of ``DealService`` that go through ``_change``."""

    async def _change(
        self,
        *,
        deal_id: int,
        actor: User,
        expected_version: int | None,
        change: Change,
        allow_unowned: bool = False,
    ) -> Deal:
        require_active(actor)
        async with self.db.uow() as uow:
            try:  # reads and the rules' checks: a refusal here comes before anything is written
                deal = await uow.deals.get_visible(deal_id, viewer=actor)
                if expected_version is not None and deal.version != expected_version:
                    raise StaleVersion(deal.id)
                if not actor.is_boss and deal.owner_id != actor.id and not allow_unowned:
                    raise NotTaken("change")
            except CrmError:
                uow.refused()
                raise
            was_closed, source = deal.is_closed, deal.stage
            pipeline = await pipeline_of(uow, deal.pipeline_id)
            events = await change(uow, deal, pipeline)
            if deal.stage.id != source.id and not was_closed:
                try:  # a change that moves the deal has written nothing yet: its events come below
                    await require_fields(uow, deal, pipeline, source)
                except FieldsRequired:
                    uow.refused()  # the chat asks for the fields within the same update
                    raise
            if deal.is_closed and not was_closed:
                events += await close_tasks(uow, deal, at=events[-1].at, actor=Actor.of(actor))
            await uow.events.add(*events)
            await uow.deals.save_knowing_tasks(deal, latest_open_task_due=await _latest_due(uow, deal))
            await uow.commit()
        return deal

    async def _notify_assigned(
        self, uow: UnitOfWork, deal: Deal, owner: User, *, by: User | None, at: datetime
    ) -> None:
        await uow.outbox.put(
            Notification(owner.id, DealAssigned(deal_id=deal.id, by_name=by.name if by else None)),
            at=at,
        )

    async def move(
        self,
        *,
        deal_id: int,
        to_stage: str | int,
        actor: User,
        expected_version: int | None = None,
        lost_reason: str | None = None,
        lost_note: str | None = None,
    ) -> Deal:
        """Move the deal to any stage: entering won/lost closes it; a closed deal goes back only to the
        stage it was closed from (a reopen). Back to the stage it has just left, within a day, undoes
        the last move."""

        async def change(uow: UnitOfWork, deal: Deal, pipeline: Pipeline) -> list[DealEvent]:
            target, who, undoable = pipeline.find(to_stage), Actor.of(actor), await _undoable(uow, deal)
            if deal.is_closed and target.is_open:
                return [deal.reopen(pipeline, at=self.now(), actor=who, into=target, undoable=undoable)]
            return [
                deal.move_to(
                    target,
                    at=self.now(),
                    actor=who,
                    lost_reason=lost_reason,
                    lost_note=lost_note,
                    undoable=undoable,
                )
            ]

        return await self._change(
            deal_id=deal_id, actor=actor, expected_version=expected_version, change=change
        )

    async def change_pipeline(
        self,
        *,
        deal_id: int,
        pipeline: str | int,
        actor: User,
        stage: str | int | None = None,
        expected_version: int | None = None,
    ) -> Deal:
        """Move the open deal to another pipeline (id or name): to ``stage`` of it when given, else to
        its stage at the same place on the path, or its inbox. Recorded in the history with both
        pipelines' names; the deal's follow-up is that of its new stage."""

        async def change(uow: UnitOfWork, deal: Deal, current: Pipeline) -> list[DealEvent]:
            to = await find_pipeline(uow, pipeline)
            target = to.find(stage) if stage is not None else None
            return [deal.change_pipeline(current, to, at=self.now(), actor=Actor.of(actor), stage=target)]

        return await self._change(
            deal_id=deal_id, actor=actor, expected_version=expected_version, change=change
        )

    async def reopen(self, *, deal_id: int, actor: User, expected_version: int | None = None) -> Deal:
        """Open a won or lost deal again, in the stage it was closed from (its tasks stay cancelled)."""

        async def change(uow: UnitOfWork, deal: Deal, pipeline: Pipeline) -> list[DealEvent]:
            undoable = await _undoable(uow, deal)
            return [deal.reopen(pipeline, at=self.now(), actor=Actor.of(actor), undoable=undoable)]

        return await self._change(
            deal_id=deal_id, actor=actor, expected_version=expected_version, change=change
        )

    async def move_next(self, *, deal_id: int, actor: User, expected_version: int | None = None) -> Deal:
        """Move the deal one stage forward along the funnel."""
        return await self._step(deal_id=deal_id, actor=actor, expected_version=expected_version, forward=True)

    async def move_previous(self, *, deal_id: int, actor: User, expected_version: int | None = None) -> Deal:
        """Move the deal one stage back; a closed deal goes back to the stage it was closed from."""
        return await self._step(
            deal_id=deal_id, actor=actor, expected_version=expected_version, forward=False
        )

    async def _step(self, *, deal_id: int, actor: User, expected_version: int | None, forward: bool) -> Deal:
        async def change(uow: UnitOfWork, deal: Deal, pipeline: Pipeline) -> list[DealEvent]:
            who, undoable = Actor.of(actor), await _undoable(uow, deal)
            if deal.is_closed and not forward:
                return [deal.reopen(pipeline, at=self.now(), actor=who, undoable=undoable)]
            target = pipeline.next_after(deal.stage) if forward else pipeline.previous_before(deal.stage)
            if target is None or deal.is_closed:
                raise InvalidInput("stage", deal.stage.name, Why.NO_STAGE_THAT_WAY)
            return [deal.move_to(target, at=self.now(), actor=who, undoable=undoable)]

        return await self._change(
            deal_id=deal_id, actor=actor, expected_version=expected_version, change=change
        )

    async def mark_won(self, *, deal_id: int, actor: User, expected_version: int | None = None) -> Deal:
        """Close the deal as won."""

        async def change(uow: UnitOfWork, deal: Deal, pipeline: Pipeline) -> list[DealEvent]:
            if deal.is_closed:
                raise DealClosed(deal.id)
            return [deal.move_to(pipeline.won, at=self.now(), actor=Actor.of(actor))]

        return await self._change(
            deal_id=deal_id, actor=actor, expected_version=expected_version, change=change
        )

    async def mark_lost(
        self,
        *,
        deal_id: int,
        reason: str,
        actor: User,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> Deal:
        """Close the deal as lost, for a reason (and the seller's own words, ``note``, for "Other")."""

        async def change(uow: UnitOfWork, deal: Deal, pipeline: Pipeline) -> list[DealEvent]:
            if deal.is_closed:
                raise DealClosed(deal.id)
            return [
                deal.move_to(
                    pipeline.lost, at=self.now(), actor=Actor.of(actor), lost_reason=reason, lost_note=note
                )
            ]

        return await self._change(
            deal_id=deal_id, actor=actor, expected_version=expected_version, change=change
        )

    async def reassign(
        self, *, deal_id: int, owner_telegram_id: int | None, actor: User, expected_version: int | None = None
    ) -> Deal:
        """Give the deal to another seller, or to nobody (bosses only)."""
        require_boss(actor, "reassign deals")
        now = self.now()

        async def change(uow: UnitOfWork, deal: Deal, pipeline: Pipeline) -> list[DealEvent]:
            owner = None
            if owner_telegram_id is not None:
                owner = await uow.users.by_telegram_id(owner_telegram_id)
                if owner is None or not owner.active:
                    raise NotFound("user", owner_telegram_id)
            event = deal.reassign(owner, at=now, actor=Actor.of(actor))
            await uow.tasks.reassign_open(deal_id=deal.id, assignee_id=owner.id if owner else None)
            if owner is not None and owner.id != actor.id:
                await self._notify_assigned(uow, deal, owner, by=actor, at=now)
            return [event]

        return await self._change(
            deal_id=deal_id, actor=actor, expected_version=expected_version, change=change
        )

    async def take(self, *, deal_id: int, actor: User, expected_version: int | None = None) -> Deal:
        """Take an unassigned deal from the inbox."""
        now = self.now()

        async def change(uow: UnitOfWork, deal: Deal, pipeline: Pipeline) -> list[DealEvent]:
            if deal.owner is not None:
                raise Conflict(f"Deal {deal.id} already belongs to {deal.owner.name}.")
            await uow.tasks.reassign_open(deal_id=deal.id, assignee_id=actor.id)
            return [deal.reassign(actor, at=now, actor=Actor.of(actor))]

        return await self._change(
            deal_id=deal_id, actor=actor, expected_version=expected_version, change=change, allow_unowned=True
        )

    async def add_note(self, *, deal_id: int, text: str, actor: User) -> Deal:
        """Write a note in the deal's history (counts as activity)."""
        note = valid_note(text)
        now = self.now()

        async def change(uow: UnitOfWork, deal: Deal, pipeline: Pipeline) -> list[DealEvent]:
            deal.touch(now)
            return [DealEvent.new(deal, EventKind.NOTE, now, Actor.of(actor), text=note)]

        return await self._change(deal_id=deal_id, actor=actor, expected_version=None, change=change)

    async def set_priority(
        self, *, deal_id: int, priority: Priority, actor: User, expected_version: int | None = None
    ) -> Deal:
        async def change(uow: UnitOfWork, deal: Deal, pipeline: Pipeline) -> list[DealEvent]:
            return [deal.set_priority(priority, at=self.now(), actor=Actor.of(actor))]

        return await self._change(
            deal_id=deal_id, actor=actor, expected_version=expected_version, change=change
        )

    async def snooze(
        self,
        *,
        deal_id: int,
        until: datetime,
        actor: User,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> Deal:
        """Quiet the deal's reminders until a time, with an optional reason kept in history."""
        clean = reason.strip()[:200] if reason and reason.strip() else None

        async def change(uow: UnitOfWork, deal: Deal, pipeline: Pipeline) -> list[DealEvent]:
            return [deal.snooze(until, at=self.now(), actor=Actor.of(actor), reason=clean)]

        return await self._change(
            deal_id=deal_id, actor=actor, expected_version=expected_version, change=change
        )


async def _latest_due(uow: UnitOfWork, deal: Deal) -> datetime | None:
    """When the deal's tasks not done are due at the latest (its follow-up time counts them): read as
    the deal's tasks, which its card then shows without reading them again (none for a closed deal)."""
    if deal.is_closed:
        return None
    return max((t.due_at for t in await uow.tasks.not_done_of_deal(deal.id)), default=None)


async def require_fields(uow: UnitOfWork, deal: Deal, pipeline: Pipeline, source: Stage) -> None:
    """Refuse a move from ``source`` into or past a stage that requires fields the deal has not got."""
    missing = missing_for_move(
        await uow.fields.definitions(),
        await uow.fields.values_of(FieldEntity.DEAL, deal.id),
        pipeline,
        source,
        deal.stage,
    )
    if missing:
        raise FieldsRequired(deal.id, deal.stage.name, [d.key for d in missing])


async def _undoable(uow: UnitOfWork, deal: Deal) -> DealEvent | None:
    """The stage change of the deal a move back (or a reopen) would undo, from its history."""
    return last_undoable(await uow.events.stage_history(deal.id))


async def close_tasks(uow: UnitOfWork, deal: Deal, *, at: datetime, actor: Actor) -> list[DealEvent]:
    """The deal was just won or lost: its open tasks are cancelled by the close."""
    tasks = await uow.tasks.not_done_of_deal(deal.id)
    events = deal.close_tasks(tasks, at=at, actor=actor)
    for task in tasks:
        await uow.tasks.save(task)
    return events
