"""The lame stage: the one stage where the funnel loses clearly more deals than elsewhere."""

from __future__ import annotations

import pytest

from crm_core.domain.funnel import Stage, StageKind
from crm_core.reports.lame import LameStageRule, average_loss_rate, lame_stage
from crm_core.reports.models import ConversionRow

STAGES = [
    Stage(i, 1, name, i, StageKind.INBOX if i == 1 else StageKind.OPEN)
    for i, name in enumerate(["Unsorted", "Opportunity", "Commercial offer", "Document approval"], start=1)
]


def rows(*figures: tuple[int, int]) -> list[ConversionRow]:
    """Conversion rows from (entered, lost) per stage, in funnel order."""
    return [
        ConversionRow(stage, entered, entered - lost, 0, lost)
        for stage, (entered, lost) in zip(STAGES, figures, strict=False)
    ]


def test_the_stage_that_loses_far_more_than_the_others_is_lame() -> None:
    # loss rates 0.10, 0.10, 0.60, 0.10: average 0.225; 0.60 >= 1.5 * 0.225 and 0.60 - 0.225 >= 0.10
    table = rows((10, 1), (10, 1), (10, 6), (10, 1))
    assert average_loss_rate(table) == pytest.approx(0.225)
    assert lame_stage(table) == STAGES[2]


def test_losses_spread_evenly_make_no_stage_lame() -> None:
    assert lame_stage(rows((10, 3), (10, 3), (10, 4), (10, 3))) is None


def test_two_stages_losing_equally_badly_make_no_stage_lame() -> None:
    assert lame_stage(rows((10, 0), (10, 6), (10, 6), (10, 0))) is None


def test_a_single_lost_deal_is_not_a_verdict() -> None:
    # rate 1.0 against 0.0 elsewhere, but only one deal lost there (min_lost = 2)
    assert lame_stage(rows((10, 0), (1, 1), (10, 0))) is None


def test_a_stage_above_average_by_less_than_the_margin_is_not_lame() -> None:
    # rates 0.02, 0.02, 0.08: average 0.04; 0.08 >= 1.5 * 0.04 but 0.08 - 0.04 = 0.04 < 0.10
    assert lame_stage(rows((100, 2), (100, 2), (100, 8))) is None


def test_a_stage_above_average_by_the_margin_but_not_by_the_factor_is_not_lame() -> None:
    # rates 0.50, 0.50, 0.70: average 0.5667; 0.70 - 0.5667 >= 0.10 but 0.70 < 1.5 * 0.5667 = 0.85
    assert lame_stage(rows((10, 5), (10, 5), (10, 7))) is None


def test_stages_nobody_entered_neither_count_in_the_average_nor_can_be_lame() -> None:
    table = rows((10, 1), (0, 0), (10, 6), (0, 0))
    # average over the two entered stages: (0.1 + 0.6) / 2 = 0.35; 0.6 >= 0.525 and 0.6 - 0.35 >= 0.10
    assert average_loss_rate(table) == pytest.approx(0.35)
    assert lame_stage(table) == STAGES[2]


def test_a_funnel_with_only_one_stage_entered_has_no_lame_stage() -> None:
    assert lame_stage(rows((10, 9))) is None
    assert average_loss_rate([]) == 0.0


def test_a_stricter_rule_can_be_given() -> None:
    table = rows((10, 1), (10, 1), (10, 6), (10, 1))
    assert lame_stage(table, LameStageRule(min_lost=7)) is None
