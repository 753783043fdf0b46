"""Imported deals' ids in the product they came from."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class ExternalIds(Protocol):
    async def deals_of(self, source: str, external_ids: list[str]) -> dict[str, int]:
        """The Kanbot deal of each of these ids of ``source`` that was imported before."""
        ...

    async def add(self, source: str, external_id: str, deal_id: int, *, at: datetime) -> None: ...
