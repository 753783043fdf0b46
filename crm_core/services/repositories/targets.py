"""Sales targets, and the figures the targets and the summary reports are made of."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from crm_core.domain.targets import Target


class Targets(Protocol):
    """Each seller's monthly targets, and what they won and have in the pipeline against them."""

    async def put(self, target: Target, *, set_by_id: int | None, at: datetime) -> None:
        """Set the seller's target for the month, replacing the one there was."""
        ...

    async def list(self, *, month: str | None = None, user_id: int | None = None) -> list[Target]: ...

    async def won(
        self, *, start: datetime, end: datetime, owner_id: int | None
    ) -> dict[int, tuple[int, Decimal]]:
        """Per owner: deals won in [start, end) and their amount."""
        ...

    async def weighted_open(self, *, owner_id: int | None) -> dict[int, Decimal]:
        """Per owner: their open deals' amount × their stage's win probability (still ×100)."""
        ...


class SummaryFigures(Protocol):
    """The summary report's figures, per owner (``None``: deals nobody owns)."""

    async def closed(
        self, *, start: datetime, end: datetime, owner_id: int | None, pipeline_id: int | None
    ) -> dict[int | None, tuple[int, Decimal, int, int]]:
        """Deals closed in [start, end): won count, won amount, won deals with an amount, lost count."""
        ...

    async def cycle_median(
        self,
        *,
        start: datetime,
        end: datetime,
        owner_id: int | None,
        pipeline_id: int | None,
        by_owner: bool,
    ) -> dict[int | None, float]:
        """The median seconds from creation to the win of the deals won in [start, end)."""
        ...

    async def new_by_source(
        self, *, start: datetime, end: datetime, owner_id: int | None, pipeline_id: int | None
    ) -> dict[int | None, dict[str, int]]:
        """Deals created in [start, end), by source."""
        ...
