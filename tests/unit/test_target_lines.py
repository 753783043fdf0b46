"""The targets and summary lines of /report and the digest, in each language."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from bot.core.features.targets import bar, summary_figure_lines, targets_lines
from bot.core.i18n import Tr
from crm_core.domain.users import Role, User
from crm_core.reports.summary import SummaryFigures
from crm_core.reports.targets import SellerTarget, TargetFigures, TargetsReport

ALI = User(id=2, telegram_id=201, name="Ali", role=Role.SELLER)
HALF = TargetFigures(Decimal("1000.00"), 4, Decimal("500.00"), 2, Decimal("850.00"), 25)


def report(figures: TargetFigures = HALF) -> TargetsReport:
    return TargetsReport("2026-12", figures, [SellerTarget(ALI, figures)])


def test_the_bar_fills_a_cell_a_tenth_and_stays_full_past_the_target() -> None:
    assert bar(0.0) == "▱" * 10
    assert bar(0.3) == "▰▰▰▱▱▱▱▱▱▱"
    assert bar(1.25) == "▰" * 10


def test_a_sellers_month_against_the_target_in_english() -> None:
    lines = targets_lines(report(), Tr("en"), "USD", team=True)
    assert lines == [
        "🎯 <b>Targets — December 2026</b> · 25 days left",
        "👤 <b>Ali</b>: ▰▰▰▰▰▱▱▱▱▱ 50% · $500 of $1,000 · forecast $850 · deals 2/4",
    ]


def test_without_a_target_the_line_says_so_in_russian() -> None:
    none = replace(HALF, target_amount=None, target_deals=None, days_left=1)
    lines = targets_lines(report(none), Tr("ru"), "RUB", team=False)
    assert lines[0].startswith("🎯 <b>План — декабрь 2026</b> · остался 1 день")
    assert "плана нет · выиграно" in lines[1] and "прогноз" in lines[1]


def test_the_arabic_lines_are_translated_and_their_amounts_kept_whole() -> None:
    lines = targets_lines(report(), Tr("ar"), "USD", team=True)
    assert "الأهداف" in lines[0] and "التوقع" in lines[1]
    assert "\u2067" in lines[1]  # each amount isolated right-to-left, so that it stays whole
    summary = SummaryFigures(2, Decimal("300.00"), 1, Decimal("300.00"), 4.0, {"manual": 2, "call": 1})
    text = "\n".join(summary_figure_lines(summary, Tr("ar"), "USD"))
    assert "نسبة الفوز" in text and "يدويًا" in text and "المكالمات" in text
