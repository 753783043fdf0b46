"""Working deals: create, move, win, lose, reassign, take, note, edit, snooze, and look them up.

``DealService`` creates deals and reads them here; its changes are ``DealChanges``
(``crm_core.services.deal_changes``) and its edits ``DealEdits`` (``crm_core.services.deal_edits``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from crm_core.domain.contacts import Contact, DealRef, KnownCustomer
from crm_core.domain.deals import Deal, Priority, Source
from crm_core.domain.errors import InvalidInput, NotAllowed, NotFound, Why
from crm_core.domain.funnel import Pipeline, Stage
from crm_core.domain.history import Actor, DealEvent, EventKind
from crm_core.domain.listing import DealOrder, Page
from crm_core.domain.phones import to_e164, try_e164
from crm_core.domain.tasks import Task
from crm_core.domain.users import User, valid_name
from crm_core.domain.values import valid_currency, valid_title
from crm_core.services.base import find_pipeline, pipeline_of, require_active
from crm_core.services.deal_edits import DealEdits, deal_amount
from crm_core.services.unit_of_work import UnitOfWork


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


class DealService(DealEdits):
    """Deals: created and looked up here; changed by ``DealChanges``, edited by ``DealEdits``."""

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
        pipeline: str | int | None = None,
    ) -> Deal:
        """Open a new deal in ``pipeline`` (id or name; the default one when None), in its inbox unless
        a stage of it is given; the actor owns it unless a boss says."""
        require_active(actor)
        clean_title = valid_title(title)
        value = deal_amount(amount)
        code = valid_currency(currency) if currency else self.config.default_currency
        e164 = to_e164(phone, region=self.config.default_region) if phone and phone.strip() else None
        name = valid_name(contact_name) if contact_name and contact_name.strip() else None
        now = self.now()
        async with self.db.uow() as uow:
            funnel = await find_pipeline(uow, pipeline)
            deal = Deal.start(
                pipeline=funnel,
                title=clean_title,
                currency=code,
                at=now,
                stage=funnel.find(stage) if stage is not None else None,
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

    async def board(
        self, *, actor: User, owner_telegram_id: int | None = None, pipeline: str | int | None = None
    ) -> Board:
        """The kanban's columns of ``pipeline`` (the default one when None): per stage, how many deals
        and their sum, as the actor may see them."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            funnel = await find_pipeline(uow, pipeline)
            owner_id = await self._owner_filter(uow, actor, owner_telegram_id)
            totals = await uow.deal_lists.board(pipeline_id=funnel.id, viewer=actor, owner_id=owner_id)
        return Board(
            funnel,
            [BoardColumn(s, *totals.get(s.id, (0, Decimal("0.00"), 0))) for s in funnel.stages],
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
        pipeline: str | int | None = None,
    ) -> tuple[Stage, Page[Deal]]:
        """One page of a stage's deals (a stage of ``pipeline``, the default one when None; a stage id
        finds its stage in any pipeline), newest in the stage first or longest waiting first."""
        require_active(actor)
        if not 1 <= limit <= 200:
            raise InvalidInput("page size", limit, detail="1 to 200")
        async with self.db.uow(write=False) as uow:
            target = await _stage_of(uow, stage, pipeline)
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
        pipeline: str | int | None = None,
    ) -> list[Deal]:
        """The deals the actor may see: of every pipeline unless one is given (a stage by name is
        looked for in ``pipeline``, the default one when None)."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            funnel = await find_pipeline(uow, pipeline) if pipeline is not None else None
            stage_id = (await _stage_of(uow, stage, pipeline)).id if stage is not None else None
            owner_id = await self._owner_filter(uow, actor, owner_telegram_id)
            return await uow.deals.list_all(
                viewer=actor,
                stage_id=stage_id,
                owner_id=owner_id,
                limit=limit,
                pipeline_id=funnel.id if funnel is not None else None,
            )

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


async def _stage_of(uow: UnitOfWork, stage: str | int, pipeline: str | int | None) -> Stage:
    """A stage by name in ``pipeline`` (the default one when None), or by id in ``pipeline`` or, when
    none is named, in any pipeline (a button's stage id needs no pipeline beside it)."""
    funnel = await find_pipeline(uow, pipeline)
    try:
        return funnel.find(stage)
    except NotFound:
        if pipeline is not None or not str(stage).strip().isdigit():
            raise
    for other in await uow.pipelines.all():
        if other.id != funnel.id:
            for candidate in other.stages:
                if candidate.id == int(str(stage).strip()):
                    return candidate
    raise NotFound("stage", stage)


async def known_customer(uow: UnitOfWork, phone: str, *, viewer: User) -> KnownCustomer | None:
    """Whose ``phone`` (E.164) is, with their open deals as ``viewer`` may know them; None: nobody's."""
    contact = await uow.contacts.by_phone(phone)
    if contact is None:
        return None
    seen, unseen = await uow.deals.open_of_contact_as_seen_by(contact.id, viewer=viewer)
    return KnownCustomer(contact, [DealRef(d.id, d.title) for d in seen], unseen)
