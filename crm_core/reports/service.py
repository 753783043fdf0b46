"""Reports over the deals an actor may see: sellers their own, bosses everyone's or one seller's."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from crm_core.domain.errors import InvalidInput, NotAllowed, NotFound
from crm_core.domain.funnel import Pipeline, StageKind
from crm_core.domain.users import Role, User
from crm_core.reports.lame import LameStageRule, average_loss_rate, enough_losses, lame_stage
from crm_core.reports.models import (
    ActivitySummary,
    CallFigures,
    CallsReport,
    ConversionReport,
    ConversionRow,
    FlowRow,
    FunnelRow,
    FunnelSnapshot,
    Period,
    SellerCalls,
    SellerLameStage,
    SellerRow,
    VelocityRow,
)
from crm_core.services.base import ServiceBase, find_pipeline, require_active
from crm_core.services.unit_of_work import UnitOfWork

CENT = Decimal("0.01")


class ReportService(ServiceBase):
    lame_rule: LameStageRule = LameStageRule()

    async def _scope(self, uow: UnitOfWork, actor: User, seller_telegram_id: int | None) -> int | None:
        """The owner id the report is limited to: the seller themselves, or the seller a boss picked."""
        require_active(actor)
        if not actor.is_boss:
            if seller_telegram_id not in (None, actor.telegram_id):
                raise NotAllowed("see another seller's figures")
            return actor.id
        if seller_telegram_id is None:
            return None
        seller = await uow.users.by_telegram_id(seller_telegram_id)
        if seller is None:
            raise NotFound("user", seller_telegram_id)
        return seller.id

    def default_period(self, days: float = 30) -> Period:
        return Period.last(days, until=self.now())

    async def funnel(
        self, *, actor: User, seller_telegram_id: int | None = None, pipeline: str | int | None = None
    ) -> FunnelSnapshot:
        """Open deals per stage of ``pipeline`` (the default one when None): count, sum, and sum
        weighted by the stage's win probability."""
        async with self.db.uow(write=False, long=True) as uow:
            owner_id = await self._scope(uow, actor, seller_telegram_id)
            funnel = await find_pipeline(uow, pipeline)
            figures = await uow.reports.funnel(pipeline_id=funnel.id, owner_id=owner_id)
        rows = []
        for stage in funnel.stages:
            if stage.is_closed:
                continue
            count, amount, weighted = figures.get(stage.id, (0, Decimal("0.00"), Decimal("0.00")))
            rows.append(FunnelRow(stage, count, amount, (weighted / 100).quantize(CENT, ROUND_HALF_UP)))
        return FunnelSnapshot(rows)

    async def flow(
        self,
        *,
        actor: User,
        period: Period,
        seller_telegram_id: int | None = None,
        pipeline: str | int | None = None,
    ) -> list[FlowRow]:
        """Per stage, during the period: deals that entered, advanced, were won or lost from it."""
        async with self.db.uow(write=False, long=True) as uow:
            owner_id = await self._scope(uow, actor, seller_telegram_id)
            funnel = await find_pipeline(uow, pipeline)
            figures = await uow.reports.flow(start=period.start, end=period.end, owner_id=owner_id)
        return [FlowRow(s, *figures.get(s.id, [0, 0, 0, 0])) for s in funnel.stages]

    async def conversion(
        self,
        *,
        actor: User,
        period: Period,
        seller_telegram_id: int | None = None,
        pipeline: str | int | None = None,
    ) -> ConversionReport:
        """Per stage: of the deals that entered it in the period, the share gone further and lost there."""
        async with self.db.uow(write=False, long=True) as uow:
            owner_id = await self._scope(uow, actor, seller_telegram_id)
            funnel = await find_pipeline(uow, pipeline)
            figures = await uow.reports.conversion(start=period.start, end=period.end, owner_id=owner_id)
        rows = _conversion_rows(funnel, {stage: f for (_, stage), f in figures.items()})
        return ConversionReport(
            period,
            rows,
            lame_stage(rows, self.lame_rule),
            average_loss_rate(rows),
            enough_losses=enough_losses(rows, self.lame_rule),
        )

    async def lame_stages_by_seller(
        self, *, actor: User, period: Period, pipeline: str | int | None = None
    ) -> list[SellerLameStage]:
        """Each seller's own lame stage (a seller can limp at a stage where the team does not)."""
        async with self.db.uow(write=False, long=True) as uow:
            owner_id = await self._scope(uow, actor, None)
            funnel = await find_pipeline(uow, pipeline)
            figures = await uow.reports.conversion(
                start=period.start, end=period.end, owner_id=owner_id, by_owner=True
            )
            people = {u.id: u for u in await uow.users.list()}
        by_owner: dict[int, dict[int, tuple[int, int, int, int]]] = {}
        for (owner, stage), values in figures.items():
            if owner is not None:
                by_owner.setdefault(owner, {})[stage] = values
        result = []
        for owner, stage_figures in sorted(by_owner.items()):
            if owner not in people:
                continue
            rows = _conversion_rows(funnel, stage_figures)
            lame = lame_stage(rows, self.lame_rule)
            rate = next((r.loss_rate for r in rows if lame and r.stage.id == lame.id), 0.0)
            result.append(SellerLameStage(people[owner], lame, rate))
        return result

    async def velocity(
        self,
        *,
        actor: User,
        period: Period,
        seller_telegram_id: int | None = None,
        pipeline: str | int | None = None,
    ) -> list[VelocityRow]:
        """Median time deals spent in each stage, over the stays that ended in the period."""
        async with self.db.uow(write=False, long=True) as uow:
            owner_id = await self._scope(uow, actor, seller_telegram_id)
            funnel = await find_pipeline(uow, pipeline)
            figures = await uow.reports.velocity(start=period.start, end=period.end, owner_id=owner_id)
        rows = []
        for stage in funnel.stages:
            if stage.is_closed:
                continue
            seconds, samples = figures.get(stage.id, (None, 0))
            rows.append(
                VelocityRow(
                    stage, timedelta(seconds=round(seconds)) if seconds is not None else None, samples
                )
            )
        return rows

    async def sellers(
        self,
        *,
        actor: User,
        period: Period,
        seller_telegram_id: int | None = None,
        pipeline: str | int | None = None,
        every_pipeline: bool = False,
    ) -> list[SellerRow]:
        """Per seller: open deals and their sum, won and lost in the period, and stale deals now; of
        ``pipeline`` (the default one when None), or of every pipeline together with ``every_pipeline``."""
        if every_pipeline and pipeline is not None:
            raise InvalidInput("pipeline", pipeline, detail="a pipeline, or every pipeline, not both")
        async with self.db.uow(write=False, long=True) as uow:
            owner_id = await self._scope(uow, actor, seller_telegram_id)
            pipeline_id = None if every_pipeline else (await find_pipeline(uow, pipeline)).id
            figures = await uow.reports.sellers(
                start=period.start, end=period.end, now=self.now(), owner_id=owner_id, pipeline_id=pipeline_id
            )
            people = await uow.users.list()
        rows = []
        zero = Decimal("0.00")
        for person in people:
            if owner_id is not None and person.id != owner_id:
                continue
            if person.id not in figures and (person.role is not Role.SELLER or not person.active):
                continue
            rows.append(SellerRow(person, *figures.get(person.id, (0, zero, 0, zero, 0, 0))))
        return rows

    async def activity(
        self,
        *,
        actor: User,
        period: Period,
        seller_telegram_id: int | None = None,
        pipeline: str | int | None = None,
    ) -> ActivitySummary:
        """New deals (and how many came from calls), forward moves, wins and losses in the period."""
        async with self.db.uow(write=False, long=True) as uow:
            owner_id = await self._scope(uow, actor, seller_telegram_id)
            funnel = await find_pipeline(uow, pipeline)
            f = await uow.reports.activity(
                start=period.start, end=period.end, owner_id=owner_id, pipeline_id=funnel.id
            )
        return ActivitySummary(
            period, f["new"], f["from_calls"], f["moved"], f["won"], f["won_amount"], f["lost"], f["reasons"]
        )

    async def calls(
        self, *, actor: User, period: Period, seller_telegram_id: int | None = None
    ) -> CallsReport:
        """Per seller and for the team: calls answered, missed and returned (and how fast), outbound."""
        async with self.db.uow(write=False, long=True) as uow:
            owner_id = await self._scope(uow, actor, seller_telegram_id)
            start, end = period.start, period.end
            missed = await uow.reports.call_missed(start=start, end=end, owner_id=owner_id)
            handled = await uow.reports.call_handled(start=start, end=end, owner_id=owner_id)
            team_median = await uow.reports.call_team_median(start=start, end=end, owner_id=owner_id)
            people = await uow.users.list()
        groups = {**dict.fromkeys(missed), **dict.fromkeys(handled)}
        figures = [_call_figures(missed.get(group), handled.get(group)) for group in groups]
        by_seller = dict(zip(groups, figures, strict=True))
        team = CallFigures(
            answered=sum(f.answered for f in figures),
            missed=sum(f.missed for f in figures),
            returned=sum(f.returned for f in figures),
            median_minutes_to_call_back=_minutes(team_median),
            outbound=sum(f.outbound for f in figures),
            outbound_connected=sum(f.outbound_connected for f in figures),
            without_outcome=sum(f.without_outcome for f in figures),
        )
        rows = [
            SellerCalls(person, by_seller.get(person.id, CallFigures()))
            for person in people
            if (owner_id is None or person.id == owner_id)
            and (person.id in by_seller or (person.role is Role.SELLER and person.active))
        ]
        return CallsReport(period, team, rows)


def _minutes(seconds: float | None) -> float | None:
    return round(seconds / 60, 1) if seconds is not None else None


def _call_figures(
    missed: tuple[int, int, float | None] | None, handled: tuple[int, int, int, int] | None
) -> CallFigures:
    n_missed, returned, median = missed or (0, 0, None)
    answered, outbound, connected, without = handled or (0, 0, 0, 0)
    return CallFigures(answered, n_missed, returned, _minutes(median), outbound, connected, without)


def _conversion_rows(
    pipeline: Pipeline, figures: dict[int, tuple[int, int, int, int]]
) -> list[ConversionRow]:
    return [
        ConversionRow(stage, *figures.get(stage.id, (0, 0, 0, 0)))
        for stage in pipeline.stages
        if stage.kind in (StageKind.INBOX, StageKind.OPEN)
    ]
