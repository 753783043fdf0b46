"""The reports' figures."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


class Reports(Protocol):
    """The reports' figures."""

    async def funnel(
        self, *, pipeline_id: int, owner_id: int | None
    ) -> dict[int, tuple[int, Decimal, Decimal]]: ...

    async def flow(self, *, start: datetime, end: datetime, owner_id: int | None) -> dict[int, list[int]]: ...

    async def conversion(
        self, *, start: datetime, end: datetime, owner_id: int | None, by_owner: bool = False
    ) -> dict[tuple[int | None, int], tuple[int, int, int, int]]: ...

    async def velocity(
        self, *, start: datetime, end: datetime, owner_id: int | None
    ) -> dict[int, tuple[float, int]]: ...

    async def sellers(
        self,
        *,
        start: datetime,
        end: datetime,
        now: datetime,
        owner_id: int | None,
        pipeline_id: int | None = None,
    ) -> dict[int, tuple[int, Decimal, int, Decimal, int, int]]: ...

    async def activity(
        self, *, start: datetime, end: datetime, owner_id: int | None, pipeline_id: int | None = None
    ) -> dict[str, Any]: ...

    async def call_missed(
        self, *, start: datetime, end: datetime, owner_id: int | None
    ) -> dict[int | None, tuple[int, int, float | None]]: ...

    async def call_team_median(
        self, *, start: datetime, end: datetime, owner_id: int | None
    ) -> float | None: ...

    async def call_handled(
        self, *, start: datetime, end: datetime, owner_id: int | None
    ) -> dict[int | None, tuple[int, int, int, int]]: ...
