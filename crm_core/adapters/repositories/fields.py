"""The team's own fields in the database: definitions, and values one row per text."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_core.adapters.repositories.deal_rows import is_open
from crm_core.adapters.tables import contact_field_values, deal_field_values, deals, field_definitions
from crm_core.domain.fields import FieldDef, FieldEntity, FieldType, Values

ZERO = Decimal("0.00")


def _table(entity: FieldEntity) -> Any:
    return deal_field_values if entity is FieldEntity.DEAL else contact_field_values


def _owner(entity: FieldEntity) -> Any:
    table = _table(entity)
    return table.c.deal_id if entity is FieldEntity.DEAL else table.c.contact_id


class FieldRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def definitions(self) -> list[FieldDef]:
        rows = await self.conn.execute(select(field_definitions).order_by(field_definitions.c.position))
        return [
            FieldDef(
                key=r.key,
                entity=FieldEntity(r.entity),
                type=FieldType(r.type),
                names=dict(r.names),
                choices=tuple(r.choices),
                required_from=r.required_from,
                position=r.position,
            )
            for r in rows
        ]

    async def replace_definitions(self, defs: Sequence[FieldDef]) -> None:
        await self.conn.execute(delete(field_definitions))
        if defs:
            await self.conn.execute(
                insert(field_definitions),
                [
                    {
                        "key": d.key,
                        "entity": d.entity.value,
                        "type": d.type.value,
                        "names": dict(d.names),
                        "choices": list(d.choices),
                        "required_from": d.required_from,
                        "position": position,
                    }
                    for position, d in enumerate(defs, start=1)
                ],
            )

    async def value_counts(self) -> dict[tuple[FieldEntity, str], int]:
        counts: dict[tuple[FieldEntity, str], int] = {}
        for entity in FieldEntity:
            table, owner = _table(entity), _owner(entity)
            rows = await self.conn.execute(
                select(table.c.key, func.count(func.distinct(owner))).group_by(table.c.key)
            )
            counts.update({(entity, key): n for key, n in rows})
        return counts

    async def drop_values(self, entity: FieldEntity, key: str) -> None:
        table = _table(entity)
        await self.conn.execute(delete(table).where(table.c.key == key))

    async def values_of(self, entity: FieldEntity, owner_id: int) -> dict[str, Values]:
        return (await self.values_of_many(entity, [owner_id])).get(owner_id, {})

    async def values_of_many(
        self, entity: FieldEntity, owner_ids: Sequence[int]
    ) -> dict[int, dict[str, Values]]:
        table, owner = _table(entity), _owner(entity)
        found: dict[int, dict[str, list[str]]] = {}
        for start in range(0, len(owner_ids), 500):
            chunk = list(owner_ids[start : start + 500])
            rows = await self.conn.execute(
                select(owner, table.c.key, table.c.value).where(owner.in_(chunk)).order_by(owner, table.c.key)
            )
            for owner_id, key, value in rows:
                found.setdefault(owner_id, {}).setdefault(key, []).append(value)
        return {o: {k: tuple(v) for k, v in values.items()} for o, values in found.items()}

    async def set_value(self, entity: FieldEntity, owner_id: int, key: str, values: Values) -> None:
        table, owner = _table(entity), _owner(entity)
        await self.conn.execute(delete(table).where(owner == owner_id, table.c.key == key))
        if values:
            await self.conn.execute(
                insert(table), [{owner.key: owner_id, "key": key, "value": v} for v in dict.fromkeys(values)]
            )

    async def funnel_by(
        self, *, pipeline_id: int, owner_id: int | None, key: str
    ) -> dict[tuple[int, str | None], tuple[int, Decimal]]:
        """Open deals per stage and per value of ``key`` (``None``: no value): count and amount."""
        values = deal_field_values
        stmt = (
            select(deals.c.stage_id, values.c.value, func.count(deals.c.id), func.sum(deals.c.amount))
            .select_from(deals.outerjoin(values, and_(values.c.deal_id == deals.c.id, values.c.key == key)))
            .where(deals.c.pipeline_id == pipeline_id, is_open())
            .group_by(deals.c.stage_id, values.c.value)
        )
        if owner_id is not None:
            stmt = stmt.where(deals.c.owner_id == owner_id)
        rows = await self.conn.execute(stmt)
        return {(stage_id, value): (n, amount or ZERO) for stage_id, value, n, amount in rows}
