"""Report results: typed figures, no text. The chat, the CLI and the digest phrase them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from crm_core.domain.funnel import Stage
from crm_core.domain.users import User


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open time range [start, end)."""

    start: datetime
    end: datetime

    @classmethod
    def last(cls, days: float, *, until: datetime) -> Period:
        return cls(until - timedelta(days=days), until)


@dataclass(frozen=True, slots=True)
class FunnelRow:
    stage: Stage
    count: int
    amount: Decimal
    weighted_amount: Decimal


@dataclass(frozen=True, slots=True)
class FunnelSnapshot:
    rows: list[FunnelRow]

    @property
    def count(self) -> int:
        return sum(r.count for r in self.rows)

    @property
    def amount(self) -> Decimal:
        return sum((r.amount for r in self.rows), Decimal("0.00"))

    @property
    def weighted_amount(self) -> Decimal:
        return sum((r.weighted_amount for r in self.rows), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class FlowRow:
    """What happened at a stage during a period."""

    stage: Stage
    entered: int
    advanced: int
    won: int
    lost: int


@dataclass(frozen=True, slots=True)
class ConversionRow:
    """Of the deals that entered the stage in the period: how many went further, won, were lost there."""

    stage: Stage
    entered: int
    advanced: int
    won: int
    lost: int

    @property
    def conversion(self) -> float:
        return self.advanced / self.entered if self.entered else 0.0

    @property
    def loss_rate(self) -> float:
        return self.lost / self.entered if self.entered else 0.0


@dataclass(frozen=True, slots=True)
class ConversionReport:
    period: Period
    rows: list[ConversionRow]
    lame_stage: Stage | None
    average_loss_rate: float
    enough_losses: bool = True  # False: too few deals lost anywhere to name a lame stage yet


@dataclass(frozen=True, slots=True)
class SellerLameStage:
    seller: User
    lame_stage: Stage | None
    loss_rate: float


@dataclass(frozen=True, slots=True)
class VelocityRow:
    stage: Stage
    median: timedelta | None
    samples: int


@dataclass(frozen=True, slots=True)
class SellerRow:
    seller: User
    open_count: int
    open_amount: Decimal
    won_count: int
    won_amount: Decimal
    lost_count: int
    stale_count: int


@dataclass(frozen=True, slots=True)
class ActivitySummary:
    """What happened in a period, for the digest: new deals, moves, wins and losses."""

    period: Period
    new_deals: int
    new_from_calls: int
    moved_forward: int
    won_count: int
    won_amount: Decimal
    lost_count: int
    top_lost_reasons: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CallFigures:
    """Calls in a period (docs/reports.md, "Calls"): answered, missed and how many of those were
    returned, the median minutes to return one, outbound calls and how many connected, and answered
    calls with no outcome recorded."""

    answered: int = 0
    missed: int = 0
    returned: int = 0
    median_minutes_to_call_back: float | None = None
    outbound: int = 0
    outbound_connected: int = 0
    without_outcome: int = 0

    @property
    def never_returned(self) -> int:
        return self.missed - self.returned


@dataclass(frozen=True, slots=True)
class SellerCalls:
    seller: User
    figures: CallFigures


@dataclass(frozen=True, slots=True)
class CallsReport:
    period: Period
    team: CallFigures
    sellers: list[SellerCalls]
