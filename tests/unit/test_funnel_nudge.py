"""The morning plan's hint from the funnel's shape: an empty stage right after a full one, nearest the
money first; else a crowded inbox; else nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_core.domain.funnel import DEFAULT_FUNNEL, Stage, StageKind
from crm_core.reports.digest import Nudge, funnel_nudge
from crm_core.reports.models import FunnelRow, FunnelSnapshot

STAGES = [
    Stage(id=i, pipeline_id=1, name=spec.name, position=i, kind=spec.kind)
    for i, spec in enumerate(DEFAULT_FUNNEL, start=1)
    if spec.kind in (StageKind.INBOX, StageKind.OPEN)
]  # Unsorted, Opportunity, Commercial offer, Document approval, Signing & payment, Execution


def funnel(*counts: int) -> FunnelSnapshot:
    zero = Decimal("0.00")
    return FunnelSnapshot([FunnelRow(s, c, zero, zero) for s, c in zip(STAGES, counts, strict=True)])


def test_an_empty_stage_right_after_a_full_one_is_pointed_at() -> None:
    assert funnel_nudge(funnel(0, 4, 0, 0, 0, 0)) == Nudge("empty_stage", 4, STAGES[2], STAGES[1])


def test_the_gap_nearest_the_money_comes_first() -> None:
    assert funnel_nudge(funnel(0, 4, 0, 2, 0, 0)) == Nudge("empty_stage", 2, STAGES[4], STAGES[3])


@pytest.mark.parametrize("inbox", [3, 12])
def test_a_crowded_inbox_is_pointed_at_when_no_stage_gapes(inbox: int) -> None:
    assert funnel_nudge(funnel(inbox, 0, 0, 0, 0, 0)) == Nudge("inbox", inbox, STAGES[0])
    assert funnel_nudge(funnel(inbox, 1, 1, 1, 1, 1)) == Nudge("inbox", inbox, STAGES[0])


def test_a_gap_between_open_stages_beats_a_crowded_inbox() -> None:
    assert funnel_nudge(funnel(9, 1, 0, 0, 0, 0)) == Nudge("empty_stage", 1, STAGES[2], STAGES[1])


@pytest.mark.parametrize(
    "counts",
    [
        (0, 0, 0, 0, 0, 0),  # nothing at all
        (2, 0, 0, 0, 0, 0),  # two unsorted deals are not a crowd
        (0, 0, 0, 0, 0, 3),  # everything is in the last stage: nothing after it gapes
        (1, 2, 3, 4, 5, 6),
    ],
)
def test_no_hint_when_the_funnel_has_no_telling_shape(counts: tuple[int, ...]) -> None:
    assert funnel_nudge(funnel(*counts)) is None
