"""Sales targets: a boss sets each seller's month; the report sets them against what was won and what
the weighted pipeline forecasts (docs/reports.md, "Targets")."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from crm_core.domain.errors import NotFound
from crm_core.domain.targets import (
    Target,
    days_left,
    month_bounds,
    month_of,
    target_amount,
    target_deals,
    valid_month,
)
from crm_core.domain.users import Role, User
from crm_core.reports.service import ReportService
from crm_core.services.base import require_boss

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class TargetFigures:
    """A month against its target: ``target_*`` are None where no target was set."""

    target_amount: Decimal | None
    target_deals: int | None
    won_amount: Decimal
    won_deals: int
    forecast_amount: Decimal
    days_left: int

    @property
    def share(self) -> float | None:
        """Won ÷ target (1.0 = met), None without a target."""
        return float(self.won_amount / self.target_amount) if self.target_amount else None


@dataclass(frozen=True, slots=True)
class SellerTarget:
    seller: User
    figures: TargetFigures


@dataclass(frozen=True, slots=True)
class TargetsReport:
    month: str
    team: TargetFigures
    sellers: list[SellerTarget]


@dataclass(frozen=True, slots=True)
class SetTarget:
    """A target as set, with whose it is."""

    seller: User
    target: Target


def _sum_or_none(values: list[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, ZERO) if present else None


def _count_or_none(values: list[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


class TargetService(ReportService):
    def current_month(self) -> str:
        """This month in the team's time zone."""
        return month_of(self.now(), self.config.team_timezone)

    async def set_target(
        self,
        *,
        seller_telegram_id: int,
        month: str,
        amount: Decimal | str,
        deals: int | str | None = None,
        actor: User | None,
    ) -> SetTarget:
        """Set a seller's target for a month (bosses; ``actor=None`` is the admin at the command line)."""
        if actor is not None:
            require_boss(actor, "set targets")
        target = Target(0, valid_month(month), target_amount(amount), target_deals(deals))
        async with self.db.uow() as uow:
            seller = await uow.users.by_telegram_id(seller_telegram_id)
            if seller is None:
                raise NotFound("user", seller_telegram_id)
            target = Target(seller.id, target.month, target.amount, target.deals)
            await uow.targets.put(target, set_by_id=actor.id if actor else None, at=self.now())
            await uow.commit()
        return SetTarget(seller, target)

    async def list_targets(self, *, month: str | None = None, actor: User | None) -> list[SetTarget]:
        """The targets set, by month: a seller sees their own, a boss (or the admin) everyone's."""
        month = valid_month(month) if month is not None else None
        async with self.db.uow(write=False, long=True) as uow:
            owner_id = await self._scope(uow, actor, None) if actor is not None else None
            targets = await uow.targets.list(month=month, user_id=owner_id)
            people = {u.id: u for u in await uow.users.list()}
        return [SetTarget(people[t.user_id], t) for t in targets if t.user_id in people]

    async def targets(
        self, *, actor: User, month: str | None = None, seller_telegram_id: int | None = None
    ) -> TargetsReport:
        """Per seller and for the team: the month's target, won so far, its share, the forecast and the
        days left. A seller sees their own row, and the team figure is theirs too."""
        month = valid_month(month) if month is not None else self.current_month()
        tz = self.config.team_timezone
        start, end = month_bounds(month, tz)
        now = self.now()
        left = days_left(month, now=now, tz=tz)
        async with self.db.uow(write=False, long=True) as uow:
            owner_id = await self._scope(uow, actor, seller_telegram_id)
            targets = {t.user_id: t for t in await uow.targets.list(month=month, user_id=owner_id)}
            won = await uow.targets.won(start=start, end=end, owner_id=owner_id)
            # The open pipeline is the current month's outlook; a month over is what it won.
            current = start <= now < end
            weighted = await uow.targets.weighted_open(owner_id=owner_id) if current else {}
            people = await uow.users.list()
        rows = []
        for person in people:
            if owner_id is not None and person.id != owner_id:
                continue
            mentioned = person.id in targets or person.id in won
            if not mentioned and (person.role is not Role.SELLER or not person.active):
                continue
            rows.append(
                SellerTarget(person, _figures(targets.get(person.id), won, weighted, person.id, left))
            )
        team = TargetFigures(
            target_amount=_sum_or_none([r.figures.target_amount for r in rows]),
            target_deals=_count_or_none([r.figures.target_deals for r in rows]),
            won_amount=sum((r.figures.won_amount for r in rows), ZERO),
            won_deals=sum(r.figures.won_deals for r in rows),
            forecast_amount=sum((r.figures.forecast_amount for r in rows), ZERO),
            days_left=left,
        )
        return TargetsReport(month, team, rows)


def _figures(
    target: Target | None,
    won: dict[int, tuple[int, Decimal]],
    weighted: dict[int, Decimal],
    user_id: int,
    left: int,
) -> TargetFigures:
    won_deals, won_amount = won.get(user_id, (0, ZERO))
    pipeline = (weighted.get(user_id, ZERO) / 100).quantize(CENT, ROUND_HALF_UP)
    return TargetFigures(
        target_amount=target.amount if target else None,
        target_deals=target.deals if target else None,
        won_amount=won_amount,
        won_deals=won_deals,
        forecast_amount=won_amount + pipeline,
        days_left=left,
    )
