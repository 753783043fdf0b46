"""What the bosses' daily digest and the sellers' morning plan contain: typed figures, no text.

Every figure comes from the report service's own queries, so the digest says what `/report` says.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from crm_core.domain.deals import Deal
from crm_core.domain.funnel import Pipeline, Stage, StageKind
from crm_core.domain.tasks import Task, TaskKind
from crm_core.domain.users import User
from crm_core.reports.models import (
    ActivitySummary,
    CallsReport,
    ConversionReport,
    FunnelSnapshot,
    Period,
    SellerLameStage,
    SellerRow,
)
from crm_core.reports.service import ReportService
from crm_core.reports.summary import Summary, SummaryService
from crm_core.reports.targets import TargetService, TargetsReport
from crm_core.services.base import require_active, require_boss
from crm_core.services.unit_of_work import UnitOfWork

STALEST = 5
INBOX_CROWDED = 3


@dataclass(frozen=True, slots=True)
class DigestSection:
    """The digest's figures of one pipeline."""

    pipeline: Pipeline
    funnel: FunnelSnapshot
    activity: ActivitySummary
    previous: ActivitySummary | None
    conversion: ConversionReport
    seller_lame: list[SellerLameStage]
    sellers: list[SellerRow]


@dataclass(frozen=True, slots=True)
class Digest:
    """The figures of the default pipeline, those of the others (``others``), and what is the team's
    whatever the pipeline: the calls, the missed calls not called back, the stalest deals."""

    period: Period
    weekly: bool
    funnel: FunnelSnapshot
    activity: ActivitySummary
    previous: ActivitySummary | None  # the week before, in the weekly variant
    conversion: ConversionReport
    seller_lame: list[SellerLameStage]
    sellers: list[SellerRow]
    missed_calls: list[Task]  # open call-backs whose customer was not reached since the missed call
    stalest: list[Deal]
    calls: CallsReport | None = None  # the period's calls (docs/reports.md, "Calls")
    targets: TargetsReport | None = None  # this month against the targets (docs/reports.md, "Targets")
    summary: Summary | None = None  # the 30 days' summary, every pipeline (docs/reports.md, "Summary")
    pipeline: Pipeline | None = None  # the default pipeline, whose figures are the ones above
    others: tuple[DigestSection, ...] = ()  # the other pipelines', in order

    @property
    def sections(self) -> list[DigestSection]:
        """Every pipeline's figures, the default pipeline's first."""
        if self.pipeline is None:
            return list(self.others)
        first = DigestSection(
            self.pipeline,
            self.funnel,
            self.activity,
            self.previous,
            self.conversion,
            self.seller_lame,
            self.sellers,
        )
        return [first, *self.others]


@dataclass(frozen=True, slots=True)
class Nudge:
    """A hint from the funnel's shape: a crowded inbox, or an empty stage after a full one."""

    kind: Literal["inbox", "empty_stage"]
    count: int
    stage: Stage
    previous: Stage | None = None


@dataclass(frozen=True, slots=True)
class FunnelNudge:
    """A pipeline's hint for the morning plan, with the pipeline it is about."""

    pipeline: Pipeline
    nudge: Nudge


@dataclass(frozen=True, slots=True)
class MorningPlan:
    """A seller's day. ``nudges``: a hint per pipeline whose shape (the seller's deals in it) gives one,
    the default pipeline first; ``pipelines``: how many the team has (with more than one, a hint says
    which pipeline it is about)."""

    day: date
    tasks: list[Task]
    stale: list[Deal]
    nudges: list[FunnelNudge]
    pipelines: int = 1

    @property
    def nudge(self) -> Nudge | None:
        """The first hint: the default pipeline's when it has one."""
        return self.nudges[0].nudge if self.nudges else None


def funnel_nudge(funnel: FunnelSnapshot) -> Nudge | None:
    """The most useful one-line hint: an empty stage right after a full one (nearest the money first),
    else a crowded inbox. The inbox is judged by its own rule: with it among the "full" stages, an
    unsorted inbox would always read as "push the deals in the inbox" and never as crowded."""
    rows = funnel.rows
    for earlier, later in reversed(list(itertools.pairwise(rows))):
        if (
            later.count == 0
            and earlier.count > 0
            and earlier.stage.kind is later.stage.kind is StageKind.OPEN
        ):
            return Nudge("empty_stage", earlier.count, later.stage, earlier.stage)
    inbox = next((r for r in rows if r.stage.kind is StageKind.INBOX), None)
    if inbox is not None and inbox.count >= INBOX_CROWDED:
        return Nudge("inbox", inbox.count, inbox.stage)
    return None


async def _not_returned(uow: UnitOfWork, call_backs: list[Task]) -> list[Task]:
    """The call-backs whose customer nobody reached since the missed call (one reached before calls
    closed the loop themselves may still be open)."""
    numbered = [t for t in call_backs if t.phone is not None]
    since = min((t.created_at for t in numbered), default=None)
    if since is None:
        return call_backs
    reached = await uow.calls.last_reached({t.phone for t in numbered if t.phone}, since=since)
    return [t for t in call_backs if t.phone is None or reached.get(t.phone, t.created_at) <= t.created_at]


class DigestService(ReportService):
    async def digest(self, *, actor: User, since: datetime, until: datetime, weekly: bool = False) -> Digest:
        """The boss's digest: the funnel now, what happened since the last one, conversion and losses
        over 30 days with the lame stages, the sellers, missed calls not called back, the stalest deals."""
        require_boss(actor, "get the digest")
        period = Period(until - timedelta(days=7), until) if weekly else Period(since, until)
        month = Period(until - timedelta(days=30), until)
        sections = [
            await self._section(actor, p, period=period, month=month, weekly=weekly)
            for p in await self._pipelines()
        ]
        main = sections[0]
        async with self.db.uow(write=False, long=True) as uow:
            call_backs = [
                t
                for t in await uow.tasks.open_for(assignee_id=None, limit=500)
                if t.kind is TaskKind.CALL_BACK and t.due_at <= until
            ]
            call_backs = await _not_returned(uow, call_backs)
            stalest = await uow.deals.stale(now=until, viewer=actor, limit=STALEST)
        return Digest(
            period=period,
            weekly=weekly,
            funnel=main.funnel,
            activity=main.activity,
            previous=main.previous,
            conversion=main.conversion,
            seller_lame=main.seller_lame,
            sellers=main.sellers,
            missed_calls=call_backs,
            stalest=stalest,
            calls=await self.calls(actor=actor, period=period),
            targets=await TargetService(self.db, self.clock, self.config).targets(actor=actor),
            summary=await SummaryService(self.db, self.clock, self.config).summary(actor=actor, period=month),
            pipeline=main.pipeline,
            others=tuple(sections[1:]),
        )

    async def _pipelines(self) -> list[Pipeline]:
        async with self.db.uow(write=False) as uow:
            return await uow.pipelines.all()

    async def _section(
        self, actor: User, pipeline: Pipeline, *, period: Period, month: Period, weekly: bool
    ) -> DigestSection:
        """One pipeline's part of the digest."""
        previous = None
        if weekly:
            previous = await self.activity(
                actor=actor,
                period=Period(period.start - timedelta(days=7), period.start),
                pipeline=pipeline.id,
            )
        return DigestSection(
            pipeline,
            funnel=await self.funnel(actor=actor, pipeline=pipeline.id),
            activity=await self.activity(actor=actor, period=period, pipeline=pipeline.id),
            previous=previous,
            conversion=await self.conversion(actor=actor, period=month, pipeline=pipeline.id),
            seller_lame=await self.lame_stages_by_seller(actor=actor, period=month, pipeline=pipeline.id),
            sellers=await self.sellers(actor=actor, period=month, pipeline=pipeline.id),
        )

    async def morning_plan(self, *, actor: User) -> MorningPlan:
        """A seller's day: tasks due today (and overdue), stale deals of every pipeline, and a nudge
        from the shape of each pipeline the seller has deals in."""
        require_active(actor)
        now = self.now()
        local = now.astimezone(ZoneInfo(actor.timezone))
        end_of_day = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=local.tzinfo)
        async with self.db.uow(write=False, long=True) as uow:
            tasks = [
                t for t in await uow.tasks.open_for(assignee_id=actor.id, limit=200) if t.due_at < end_of_day
            ]
            stale = await uow.deals.stale(now=now, viewer=actor, owner_id=actor.id)
        pipelines = await self._pipelines()
        nudges = []
        for pipeline in pipelines:
            funnel = await self.funnel(
                actor=actor,
                seller_telegram_id=actor.telegram_id if actor.is_boss else None,
                pipeline=pipeline.id,
            )
            if (nudge := funnel_nudge(funnel)) is not None:
                nudges.append(FunnelNudge(pipeline, nudge))
        return MorningPlan(local.date(), tasks, stale, nudges, len(pipelines))
