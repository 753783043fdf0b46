"""The team's own fields: their definitions, and their values on deals and contacts."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from crm_core.domain.fields import FieldDef, FieldEntity, Values


class Fields(Protocol):
    """Field definitions and values; a value is stored one row per text (a multi-choice has several)."""

    async def definitions(self) -> list[FieldDef]: ...

    async def replace_definitions(self, defs: Sequence[FieldDef]) -> None: ...

    async def value_counts(self) -> dict[tuple[FieldEntity, str], int]: ...

    async def drop_values(self, entity: FieldEntity, key: str) -> None: ...

    async def values_of(self, entity: FieldEntity, owner_id: int) -> dict[str, Values]: ...

    async def values_of_many(
        self, entity: FieldEntity, owner_ids: Sequence[int]
    ) -> dict[int, dict[str, Values]]: ...

    async def set_value(self, entity: FieldEntity, owner_id: int, key: str, values: Values) -> None: ...

    async def funnel_by(
        self, *, pipeline_id: int, owner_id: int | None, key: str
    ) -> dict[tuple[int, str | None], tuple[int, Decimal]]: ...
