"""Deals, their contacts and history, and the lists of deals the screens show."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from crm_core.domain.contacts import Contact
from crm_core.domain.deals import Deal
from crm_core.domain.history import DealEvent, EventKind
from crm_core.domain.listing import DealOrder, Page
from crm_core.domain.users import User


class Deals(Protocol):
    """Deals, read through the viewer's scope."""

    async def get(self, deal_id: int) -> Deal | None: ...

    async def get_visible(self, deal_id: int, *, viewer: User) -> Deal: ...

    async def add(self, deal: Deal) -> Deal: ...

    async def add_saved(self, deal: Deal, *, latest_open_task_due: datetime | None) -> Deal:
        """``add`` then ``save_knowing_tasks`` in one write (the stored deal at version 2)."""
        ...

    async def save(self, deal: Deal) -> None: ...

    async def save_knowing_tasks(self, deal: Deal, *, latest_open_task_due: datetime | None) -> None: ...

    async def refresh_follow_up(self, deal: Deal) -> None: ...

    async def list_in_stage(
        self,
        *,
        stage_id: int,
        viewer: User,
        owner_id: int | None = None,
        order: DealOrder = DealOrder.NEWEST,
        cursor: str | None = None,
        backwards: bool = False,
        limit: int = 8,
    ) -> Page[Deal]: ...

    async def owned_open(self, owner_id: int) -> list[Deal]: ...

    async def open_deals_of_contact(self, contact_id: int) -> list[Deal]: ...

    async def open_of_contact_as_seen_by(
        self, contact_id: int, *, viewer: User
    ) -> tuple[list[Deal], int]: ...

    async def of_contact(self, contact_id: int) -> list[Deal]: ...

    async def count_of_contact(self, contact_id: int) -> int: ...

    async def open_deal_ids_of_owner(self, owner_id: int) -> list[int]: ...

    async def reopen_elsewhere(self, *, instead_of: int, stage_id: int) -> None: ...

    async def ids_in_stage(self, stage_id: int) -> list[int]: ...

    async def count_in_stage(self, stage_id: int) -> int: ...

    async def ids_in_pipeline(self, pipeline_id: int) -> list[int]: ...

    async def list_all(
        self,
        *,
        viewer: User,
        stage_id: int | None = None,
        owner_id: int | None = None,
        limit: int | None = None,
        pipeline_id: int | None = None,
    ) -> list[Deal]: ...

    async def stale(
        self,
        *,
        now: datetime,
        viewer: User | None = None,
        owner_id: int | None = None,
        limit: int | None = None,
    ) -> list[Deal]: ...


class Contacts(Protocol):
    """Customers' contacts."""

    async def by_phone(self, phone: str) -> Contact | None: ...

    async def add(
        self, *, name: str | None, phone: str | None, company: str | None, at: datetime
    ) -> Contact: ...

    async def save(self, contact: Contact) -> None: ...

    async def visible_page(
        self, *, viewer: User, name_key: str | None, phone_digits: str | None, after_id: int, limit: int
    ) -> list[Contact]: ...


class Events(Protocol):
    """A deal's history."""

    async def add(self, *events: DealEvent) -> None: ...

    async def history(
        self, deal_id: int, *, limit: int | None = None, newest_first: bool = False
    ) -> list[DealEvent]: ...

    async def stage_history(self, deal_id: int) -> list[DealEvent]: ...

    async def last_of(self, deal_id: int, kinds: Sequence[EventKind]) -> DealEvent | None: ...


class DealLists(Protocol):
    """The lists of deals the screens show: the board, pages of my open deals, search."""

    async def board(
        self, *, pipeline_id: int, viewer: User, owner_id: int | None = None
    ) -> dict[int, tuple[int, Decimal, int]]: ...

    async def owned_open_page(
        self, owner_id: int, *, now: datetime, offset: int, limit: int
    ) -> tuple[list[Deal], int, int]: ...

    async def recent_open(self, owner_id: int, *, limit: int) -> list[Deal]: ...

    async def find(
        self, query: str, *, viewer: User, region_e164: str | None, limit: int = 20
    ) -> list[Deal]: ...
