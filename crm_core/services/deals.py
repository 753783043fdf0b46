"""Working deals: create, move, win, lose, reassign, take, note, edit, snooze, and look them up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from crm_core.domain.contacts import ContactScope, ContactShared, DealRef, KnownCustomer, needs_a_choice
from crm_core.domain.deals import (
    Actor,
    Contact,
    Deal,
    DealEvent,
    EventKind,
    Priority,
    Source,
    last_undoable,
)
from crm_core.domain.errors import (
    Conflict,
    DealClosed,
    InvalidInput,
    NotAllowed,
    NotFound,
    NotTaken,
    StaleVersion,
    Why,
)
from crm_core.domain.funnel import Pipeline, Stage
from crm_core.domain.listing import DealOrder, Page
from crm_core.domain.notifications import DealAssigned, Notification
from crm_core.domain.phones import to_e164, try_e164
from crm_core.domain.tasks import Task
from crm_core.domain.users import User, valid_name
from crm_core.domain.values import parse_amount, valid_currency, valid_note, valid_title
from crm_core.services.base import ServiceBase, default_pipeline, pipeline_of, require_active, require_boss
from crm_core.services.unit_of_work import UnitOfWork

EDITABLE = ("title", "amount", "currency", "contact", "phone", "company", "priority")


@dataclass(frozen=True, slots=True)
class DealDetails:
    """Everything a deal's card shows."""

    deal: Deal
    pipeline: Pipeline
    next_task: Task | None
    call_count: int
    last_note: DealEvent | None = None


@dataclass(frozen=True, slots=True)
class BoardColumn:
    """A stage on the board: the deals counted there and their sum, and the unassigned ones shown beside
    them (a seller's column lists the inbox deals they may take, never counted as theirs)."""

    stage: Stage
    count: int
    amount: Decimal
    unassigned: int = 0


@dataclass(frozen=True, slots=True)
class MyDeals:
    """A page of someone's open deals, and how many they have and how many need a follow-up."""

    deals: list[Deal]
    total: int
    stale: int


@dataclass(frozen=True, slots=True)
class Board:
    pipeline: Pipeline
    columns: list[BoardColumn]

    @property
    def open_count(self) -> int:
        """The open deals counted: for a seller, their open deals (``owned_open``)."""
        return sum(c.count for c in self.columns if c.stage.is_open)

    @property
    def open_amount(self) -> Decimal:
        return sum((c.amount for c in self.columns if c.stage.is_open), Decimal("0.00"))

    @property
    def unassigned(self) -> int:
        """Unassigned deals shown apart from the count (a seller's inbox to take from)."""
        return sum(c.unassigned for c in self.columns)


Change = Callable[[UnitOfWork, Deal, Pipeline], Awaitable[list[DealEvent]]]


def _amount(value: Decimal | str | None) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, Decimal):
        if value < 0:
            raise InvalidInput("amount", str(value), Why.NEGATIVE)
        return parse_amount(str(value))
    return parse_amount(value)


class DealService(ServiceBase):
    # -- creating -------------------------------------------------------------------------

    async def create(
        self,
        *,
        actor: User,
        title: str,
        contact_name: str | None = None,
        phone: str | None = None,
        amount: Decimal | str | None = None,
        currency: str | None = None,
        stage: str | int | None = None,
        owner_telegram_id: int | None = None,
        priority: Priority = Priority.NORMAL,
        source: Source = Source.MANUAL,
    ) -> Deal:
        """Open a new deal, in the inbox unless a stage is given; the actor owns it unless a boss says."""
        require_active(actor)
        clean_title = valid_title(title)
        value = _amount(amount)
        code = valid_currency(currency) if currency else self.config.default_currency
        e164 = to_e164(phone, region=self.config.default_region) if phone and phone.strip() else None
        name = valid_name(contact_name) if contact_name and contact_name.strip() else None
        now = self.now()
        async with self.db.uow() as uow:
            pipeline = await default_pipeline(uow)
            deal = Deal.start(
                pipeline=pipeline,
                title=clean_title,
                currency=code,
                at=now,
                stage=pipeline.find(stage) if stage is not None else None,
                source=source,
                priority=priority,
                amount=value,
            )
            owner = deal.owner = await self._owner_for_new_deal(uow, actor, owner_telegram_id)
            deal.contact = await self._contact(uow, name=name, phone=e164, at=now)
            await uow.deals.add(deal)
            await uow.events.add(deal.created_event(Actor.of(actor)))
            if owner is not None and owner.id != actor.id:
                await self._notify_assigned(uow, deal, owner, by=actor, at=now)
            await uow.commit()
        return deal

    async def _owner_for_new_deal(
        self, uow: UnitOfWork, actor: User, owner_telegram_id: int | None
    ) -> User | None:
        if owner_telegram_id is None or owner_telegram_id == actor.telegram_id:
            return actor
        if not actor.is_boss:
            raise NotAllowed("create deals for someone else")
        owner = await uow.users.by_telegram_id(owner_telegram_id)
        if owner is None or not owner.active:
            raise NotFound("user", owner_telegram_id)
        return owner

    async def _contact(
        self, uow: UnitOfWork, *, name: str | None, phone: str | None, at: datetime
    ) -> Contact | None:
        if phone is not None:
            existing = await uow.contacts.by_phone(phone)
            if existing is not None:
                if name and not existing.name:
                    existing.name = name
                    await uow.contacts.save(existing)
                return existing
        if name is None and phone is None:
            return None
        return await uow.contacts.add(name=name, phone=phone, company=None, at=at)

    async def customer_of(self, *, phone: str, actor: User) -> KnownCustomer | None:
        """Whose ``phone`` (any format) already is: a new deal with it joins that customer. Their open
        deals come with titles only where the actor may see them; the others are only counted."""
        require_active(actor)
        e164 = to_e164(phone, region=self.config.default_region)
        async with self.db.uow(write=False) as uow:
            return await known_customer(uow, e164, viewer=actor)

    async def _notify_assigned(
        self, uow: UnitOfWork, deal: Deal, owner: User, *, by: User | None, at: datetime
    ) -> None:
        await uow.outbox.put(
            Notification(owner.id, DealAssigned(deal_id=deal.id, by_name=by.name if by else None)),
            at=at,
        )

    # -- reading --------------------------------------------------------------------------

    async def get(self, *, deal_id: int, actor: User) -> Deal:
        """The deal, if the actor may see it (else ``DealNotFound``, as for a deal that does not exist)."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            return await uow.deals.get_visible(deal_id, viewer=actor)

    async def details(self, *, deal_id: int, actor: User, changed: Deal | None = None) -> DealDetails:
        """The deal with what its card shows; ``changed``: the deal as a change of the actor's just
        returned it, not read again."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            if changed is not None and changed.id == deal_id:
                deal = changed
            else:
                deal = await uow.deals.get_visible(deal_id, viewer=actor)
            tasks = await uow.tasks.open_of_deal(deal.id)
            calls = await uow.calls.count_of_deal(deal.id)
            note = await uow.events.last_of(deal.id, [EventKind.NOTE])
            return DealDetails(
                deal, await pipeline_of(uow, deal.pipeline_id), tasks[0] if tasks else None, calls, note
            )

    async def history(
        self, *, deal_id: int, actor: User, limit: int | None = None, newest_first: bool = False
    ) -> list[DealEvent]:
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            deal = await uow.deals.get_visible(deal_id, viewer=actor)
            return await uow.events.history(deal.id, limit=limit, newest_first=newest_first)

    async def board(self, *, actor: User, owner_telegram_id: int | None = None) -> Board:
        """The kanban's columns: per stage, how many deals and their sum, as the actor may see them."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            pipeline = await default_pipeline(uow)
            owner_id = await self._owner_filter(uow, actor, owner_telegram_id)
            totals = await uow.deal_lists.board(pipeline_id=pipeline.id, viewer=actor, owner_id=owner_id)
        return Board(
            pipeline,
            [BoardColumn(s, *totals.get(s.id, (0, Decimal("0.00"), 0))) for s in pipeline.stages],
        )

    async def _owner_filter(self, uow: UnitOfWork, actor: User, owner_telegram_id: int | None) -> int | None:
        if owner_telegram_id is None:
            return None
        if not actor.is_boss and owner_telegram_id != actor.telegram_id:
            raise NotAllowed("look at another seller's deals")
        owner = await uow.users.by_telegram_id(owner_telegram_id)
        if owner is None:
            raise NotFound("user", owner_telegram_id)
        return owner.id

    async def column(
        self,
        *,
        stage: str | int,
        actor: User,
        owner_telegram_id: int | None = None,
        order: DealOrder = DealOrder.NEWEST,
        cursor: str | None = None,
        backwards: bool = False,
        limit: int = 8,
    ) -> tuple[Stage, Page[Deal]]:
        """One page of a stage's deals, newest in the stage first or longest waiting first."""
        require_active(actor)
        if not 1 <= limit <= 200:
            raise InvalidInput("page size", limit, detail="1 to 200")
        async with self.db.uow(write=False) as uow:
            pipeline = await default_pipeline(uow)
            target = pipeline.find(stage)
            owner_id = await self._owner_filter(uow, actor, owner_telegram_id)
            page = await uow.deals.list_in_stage(
                stage_id=target.id,
                viewer=actor,
                owner_id=owner_id,
                order=order,
                cursor=cursor,
                backwards=backwards,
                limit=limit,
            )
        return target, page

    async def list_deals(
        self,
        *,
        actor: User,
        stage: str | int | None = None,
        owner_telegram_id: int | None = None,
        limit: int | None = None,
    ) -> list[Deal]:
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            pipeline = await default_pipeline(uow)
            stage_id = pipeline.find(stage).id if stage is not None else None
            owner_id = await self._owner_filter(uow, actor, owner_telegram_id)
            return await uow.deals.list_all(viewer=actor, stage_id=stage_id, owner_id=owner_id, limit=limit)

    async def my_open(self, *, actor: User, owner_telegram_id: int | None = None) -> list[Deal]:
        """The actor's "my open deals" (``owned_open``), or those of a seller a boss picked; never the
        unassigned inbox. /deals lists them; every other screen counts the same ones."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            owner_id = await self._owner_filter(uow, actor, owner_telegram_id)
            return await uow.deals.owned_open(owner_id if owner_id is not None else actor.id)

    async def my_open_page(
        self, *, actor: User, page: int = 0, size: int = 8, owner_telegram_id: int | None = None
    ) -> MyDeals:
        """One page of ``my_open`` as /deals shows it: those needing a follow-up first, then the most
        recently active; with how many open deals there are and how many need a follow-up."""
        require_active(actor)
        if not 0 <= page <= 1_000_000 or not 1 <= size <= 200:
            raise InvalidInput("page", page)
        async with self.db.uow(write=False) as uow:
            owner_id = await self._owner_filter(uow, actor, owner_telegram_id)
            items, total, stale = await uow.deal_lists.owned_open_page(
                owner_id if owner_id is not None else actor.id, now=self.now(), offset=page * size, limit=size
            )
        return MyDeals(items, total, stale)

    async def find(self, *, query: str, actor: User, limit: int = 20) -> list[Deal]:
        """Deals matching a phone (any format or its last digits), a title or a contact name."""
        require_active(actor)
        text = query.strip()
        if not text:
            raise InvalidInput("search", query, Why.SEARCH)
        if len(text) > 100:
            raise InvalidInput("search", query, Why.TOO_LONG, most=100)
        async with self.db.uow(write=False) as uow:
            return await uow.deal_lists.find(
                text, viewer=actor, region_e164=try_e164(text, region=self.config.default_region), limit=limit
            )

    async def stale(
        self, *, actor: User, owner_telegram_id: int | None = None, limit: int | None = None
    ) -> list[Deal]:
        """Open deals past their stage's follow-up, as the actor may see them."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            owner_id = await self._owner_filter(uow, actor, owner_telegram_id)
            return await uow.deals.stale(now=self.now(), viewer=actor, owner_id=owner_id, limit=limit)

    # -- changing -------------------------------------------------------------------------

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
            deal = await uow.deals.get_visible(deal_id, viewer=actor)
            if expected_version is not None and deal.version != expected_version:
                raise StaleVersion(deal.id)
            if not actor.is_boss and deal.owner_id != actor.id and not allow_unowned:
                raise NotTaken("change")
            was_closed = deal.is_closed
            events = await change(uow, deal, await pipeline_of(uow, deal.pipeline_id))
            if deal.is_closed and not was_closed:
                events += await close_tasks(uow, deal, at=events[-1].at, actor=Actor.of(actor))
            await uow.events.add(*events)
            await uow.deals.save(deal)
            await uow.commit()
        return deal

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

    async def edit(
        self,
        *,
        deal_id: int,
        field: str,
        value: str,
        actor: User,
        expected_version: int | None = None,
        contact_scope: ContactScope | None = None,
    ) -> Deal:
        """Change the title, amount, currency, contact name, phone, company or priority.

        A contact other deals share is changed for all of them (``ContactScope.ALL``) or replaced on
        this deal by its own (``ContactScope.THIS``); without a scope, ``ContactShared`` refuses it.
        """
        return await self.edit_fields(
            deal_id=deal_id,
            changes={field: value},
            actor=actor,
            expected_version=expected_version,
            contact_scope=contact_scope,
        )

    async def edit_fields(
        self,
        *,
        deal_id: int,
        changes: Mapping[str, str],
        actor: User,
        expected_version: int | None = None,
        contact_scope: ContactScope | None = None,
    ) -> Deal:
        """``edit`` for several fields at once: all of them, or none when one is refused."""
        if not changes:
            raise InvalidInput("field", "", detail="name at least one of " + ", ".join(EDITABLE))
        for field in changes:
            if field not in EDITABLE:
                raise InvalidInput("field", field, detail="one of " + ", ".join(EDITABLE))
        now = self.now()
        who = Actor.of(actor)

        async def change(uow: UnitOfWork, deal: Deal, pipeline: Pipeline) -> list[DealEvent]:
            events: list[DealEvent] = []
            for field, value in changes.items():
                events += await self._edit_one(uow, deal, field, value, now, who, contact_scope)
            return events

        return await self._change(
            deal_id=deal_id, actor=actor, expected_version=expected_version, change=change
        )

    async def _edit_one(
        self,
        uow: UnitOfWork,
        deal: Deal,
        field: str,
        value: str,
        now: datetime,
        who: Actor,
        scope: ContactScope | None,
    ) -> list[DealEvent]:
        if field == "title":
            return [deal.edit("title", valid_title(value), at=now, actor=who)]
        if field == "amount":
            return [deal.edit("amount", _amount(value), at=now, actor=who)]
        if field == "currency":
            return [deal.edit("currency", valid_currency(value), at=now, actor=who)]
        if field == "priority":
            try:
                level = Priority(value.strip().lower())
            except ValueError:
                raise InvalidInput("priority", value, Why.PRIORITY) from None
            return [deal.set_priority(level, at=now, actor=who)]
        return await self._edit_contact(uow, deal, field, value, now, who, scope)

    async def _edit_contact(
        self,
        uow: UnitOfWork,
        deal: Deal,
        field: str,
        value: str,
        now: datetime,
        who: Actor,
        scope: ContactScope | None,
    ) -> list[DealEvent]:
        """Change the deal's customer: in place when only this deal has them, else as ``scope`` says."""
        attribute = {"contact": "name", "phone": "phone", "company": "company"}[field]
        new = to_e164(value, region=self.config.default_region) if field == "phone" else valid_name(value)
        old = deal.contact
        previous = getattr(old, attribute) if old is not None else None
        if previous == new:
            raise InvalidInput(field, value, Why.UNCHANGED)
        holder = await uow.contacts.by_phone(new) if field == "phone" else None
        sharing = await uow.deals.count_of_contact(old.id) if old is not None else 0
        if old is not None and needs_a_choice(field, sharing, scope):
            raise ContactShared(deal_id=deal.id, name=old.name or old.phone or "?", deal_count=sharing)
        shared = sharing > 1
        event = partial(DealEvent.new, kind=EventKind.EDITED, at=now, actor=who, field=field, old=previous)
        if holder is not None:  # the number is a known customer's: this deal joins them
            if shared and scope is ContactScope.ALL:
                raise InvalidInput("phone", value, Why.OTHERS_NUMBER)
            deal.contact = holder
            deal.touch(now)
            return [event(deal, new=new, joined=holder.name or holder.phone)]
        if old is None or (shared and scope is ContactScope.THIS):
            # The deal's own contact keeps the name and company; a number is one customer's, so it
            # stays with the shared contact.
            keep = {"name": old.name if old else None, "phone": None, "company": old.company if old else None}
            deal.contact = await uow.contacts.add(**(keep | {attribute: new}), at=now)
            deal.touch(now)
            return [event(deal, new=new, own_contact=True if old is not None else None)]
        setattr(old, attribute, new)
        await uow.contacts.save(old)
        deal.touch(now)
        events = [event(deal, new=new, deals=sharing if shared else None)]
        if shared:
            for other in await uow.deals.of_contact(old.id):
                if other.id != deal.id:  # its history says so; it is not activity on it
                    events.append(event(other, new=new, via_deal=deal.id))
                    await uow.deals.save(other)
        return events


async def known_customer(uow: UnitOfWork, phone: str, *, viewer: User) -> KnownCustomer | None:
    """Whose ``phone`` (E.164) is, with their open deals as ``viewer`` may know them; None: nobody's."""
    contact = await uow.contacts.by_phone(phone)
    if contact is None:
        return None
    seen, unseen = await uow.deals.open_of_contact_as_seen_by(contact.id, viewer=viewer)
    return KnownCustomer(contact, [DealRef(d.id, d.title) for d in seen], unseen)


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
