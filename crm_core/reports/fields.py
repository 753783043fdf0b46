"""The open funnel grouped by one of the team's choice fields."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from crm_core.domain.errors import InvalidInput
from crm_core.domain.fields import FieldDef, FieldEntity
from crm_core.domain.funnel import Stage
from crm_core.domain.users import User
from crm_core.reports.service import ReportService
from crm_core.services.base import find_pipeline
from crm_core.services.deal_fields import field_by_key

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class GroupedRow:
    """Open deals of one stage with one value of the field (``None``: without a value)."""

    stage: Stage
    value: str | None
    count: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class GroupedFunnel:
    field: FieldDef
    rows: list[GroupedRow]

    def total(self, value: str | None) -> tuple[int, Decimal]:
        """Deals and their sum with ``value``, over every open stage."""
        mine = [r for r in self.rows if r.value == value]
        return sum(r.count for r in mine), sum((r.amount for r in mine), ZERO)


class FieldReportService(ReportService):
    async def funnel_by(
        self,
        *,
        actor: User,
        key: str,
        seller_telegram_id: int | None = None,
        pipeline: str | int | None = None,
    ) -> GroupedFunnel:
        """Open deals per stage and per choice of a deal's choice field: count and sum. A deal with a
        multi-choice counts under each of its choices; deals without a value form their own group."""
        async with self.db.uow(write=False, long=True) as uow:
            owner_id = await self._scope(uow, actor, seller_telegram_id)
            definition = field_by_key(await uow.fields.definitions(), key)
            if definition.entity is not FieldEntity.DEAL or not definition.has_choices:
                raise InvalidInput(
                    "group-by field", key, detail="a deal field of type choice or multi_choice"
                )
            funnel = await find_pipeline(uow, pipeline)
            figures = await uow.fields.funnel_by(pipeline_id=funnel.id, owner_id=owner_id, key=definition.key)
        groups: list[str | None] = [*definition.choices, None]
        rows = [
            GroupedRow(stage, value, *figures.get((stage.id, value), (0, ZERO)))
            for stage in funnel.stages
            if stage.is_open
            for value in groups
        ]
        return GroupedFunnel(definition, rows)
