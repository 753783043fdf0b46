"""The "lame" stage: where the funnel loses clearly more deals than at its other stages."""

from __future__ import annotations

from dataclasses import dataclass

from crm_core.domain.funnel import Stage
from crm_core.reports.models import ConversionRow


@dataclass(frozen=True, slots=True)
class LameStageRule:
    """A stage is lame when its loss rate is the highest, at least ``factor`` times the funnel's
    average stage loss rate and ``margin`` above it, with at least ``min_lost`` deals lost there
    (so one lost deal out of one is not a verdict)."""

    factor: float = 1.5
    margin: float = 0.10
    min_lost: int = 2


def average_loss_rate(rows: list[ConversionRow]) -> float:
    rates = [r.loss_rate for r in rows if r.entered]
    return sum(rates) / len(rates) if rates else 0.0


def enough_losses(rows: list[ConversionRow], rule: LameStageRule = LameStageRule()) -> bool:
    """Whether some stage lost enough deals for a verdict: with fewer, "no lame stage" means "too soon"."""
    return max((r.lost for r in rows if r.entered), default=0) >= rule.min_lost


def lame_stage(rows: list[ConversionRow], rule: LameStageRule = LameStageRule()) -> Stage | None:
    """The stage the funnel limps at, or ``None`` when losses are spread evenly (or too few)."""
    candidates = [r for r in rows if r.entered]
    if len(candidates) < 2:
        return None
    worst = max(candidates, key=lambda r: (r.loss_rate, r.lost))
    average = average_loss_rate(candidates)
    others = [r.loss_rate for r in candidates if r is not worst]
    if worst.lost < rule.min_lost or (others and worst.loss_rate == max(others)):
        return None
    if worst.loss_rate >= average * rule.factor and worst.loss_rate - average >= rule.margin:
        return worst.stage
    return None
