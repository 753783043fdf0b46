"""The numbers a boss steers by: won revenue and count, lost count, win rate, average won deal, median
sales cycle, new deals by source — per seller and for the team (docs/reports.md, "Summary")."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from crm_core.domain.deals import Source
from crm_core.domain.funnel import Pipeline
from crm_core.domain.users import Role, User
from crm_core.reports.models import Period
from crm_core.reports.service import ReportService
from crm_core.services.base import find_pipeline

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
DAY_SECONDS = 86_400
SOURCES: tuple[str, ...] = tuple(s.value for s in Source)


@dataclass(frozen=True, slots=True)
class SummaryFigures:
    won_count: int = 0
    won_amount: Decimal = ZERO
    lost_count: int = 0
    average_won_amount: Decimal | None = None  # over the won deals that have an amount
    median_cycle_days: float | None = None  # created → won, of the deals won in the period
    new_by_source: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))

    @property
    def win_rate(self) -> float | None:
        """Won ÷ closed (won + lost) in the period; None when nothing closed."""
        closed = self.won_count + self.lost_count
        return self.won_count / closed if closed else None

    @property
    def new_count(self) -> int:
        return sum(self.new_by_source.values())


@dataclass(frozen=True, slots=True)
class SellerSummary:
    seller: User
    figures: SummaryFigures


@dataclass(frozen=True, slots=True)
class Summary:
    period: Period
    team: SummaryFigures
    sellers: list[SellerSummary]
    pipeline: Pipeline | None = None


def _days(seconds: float | None) -> float | None:
    return round(seconds / DAY_SECONDS, 2) if seconds is not None else None


def _figures(
    closed: tuple[int, Decimal, int, int], median: float | None, new: dict[str, int]
) -> SummaryFigures:
    won, amount, priced, lost = closed
    average = (amount / priced).quantize(CENT, ROUND_HALF_UP) if priced else None
    by_source = dict.fromkeys(SOURCES, 0) | new
    return SummaryFigures(won, amount, lost, average, _days(median), by_source)


class SummaryService(ReportService):
    async def summary(
        self,
        *,
        actor: User,
        period: Period,
        seller_telegram_id: int | None = None,
        pipeline: str | int | None = None,
    ) -> Summary:
        """The period's summary, per seller and for the team (a seller: their own, and the team is them)."""
        start, end = period.start, period.end
        async with self.db.uow(write=False, long=True) as uow:
            owner_id = await self._scope(uow, actor, seller_telegram_id)
            chosen = await find_pipeline(uow, pipeline) if pipeline is not None else None
            pid = chosen.id if chosen else None
            closed = await uow.summary.closed(start=start, end=end, owner_id=owner_id, pipeline_id=pid)
            medians = await uow.summary.cycle_median(
                start=start, end=end, owner_id=owner_id, pipeline_id=pid, by_owner=True
            )
            team_median = await uow.summary.cycle_median(
                start=start, end=end, owner_id=owner_id, pipeline_id=pid, by_owner=False
            )
            new = await uow.summary.new_by_source(start=start, end=end, owner_id=owner_id, pipeline_id=pid)
            people = await uow.users.list()
        empty = (0, ZERO, 0, 0)
        team_closed = (
            sum(c[0] for c in closed.values()),
            sum((c[1] for c in closed.values()), ZERO),
            sum(c[2] for c in closed.values()),
            sum(c[3] for c in closed.values()),
        )
        team_new: dict[str, int] = {}
        for by_source in new.values():
            for source, n in by_source.items():
                team_new[source] = team_new.get(source, 0) + n
        rows = []
        for person in people:
            if owner_id is not None and person.id != owner_id:
                continue
            mentioned = person.id in closed or person.id in new
            if not mentioned and (person.role is not Role.SELLER or not person.active):
                continue
            figures = _figures(closed.get(person.id, empty), medians.get(person.id), new.get(person.id, {}))
            rows.append(SellerSummary(person, figures))
        team = _figures(team_closed, team_median.get(None), team_new)
        return Summary(period, team, rows, chosen)
