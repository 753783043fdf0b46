"""The digest's chart: where deals are lost — per stage, the share of the deals that reached it in the
period and were lost there, the stage the core names as the worst one in red.

The chart only draws what the core computed (``ConversionReport``: the figures per stage and its
``lame_stage`` verdict); ``loss_chart`` puts them in the reader's words, ``draw`` makes the PNG.
It is drawn for a phone: Telegram shows a photo about 330 px wide, so the image is 720 px wide with
big type, stage names wrap instead of being cut, and an Arabic reader gets it mirrored, right to left
(matplotlib 3.11 shapes and orders Arabic text itself, with libraqm). Drawn with matplotlib's Agg
canvas (no GUI, no pyplot state), so it can run in a worker thread off the event loop.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.core.i18n import Tr
from crm_core.domain.funnel import Stage
from crm_core.reports.models import ConversionReport

WIDTH_IN = 3.6
DPI = 200  # 720 px wide
WIDTH = WIDTH_IN * 72  # the layout is in points
MARGIN = 13.0
GAP = 8.0
TITLE_PT, TEXT_PT, SMALL_PT = 16.0, 13.0, 11.5
BAR_PT = 10.0
RED, BLUE, INK, GREY, TRACK = "#d63939", "#4a6fa5", "#1f2328", "#6b7280", "#e9ecef"


@dataclass(frozen=True, slots=True)
class LossBar:
    label: str  # the stage's name, in the reader's language
    lost: int
    entered: int
    share: float  # lost / entered; 0 when no deal entered
    value: str  # "3 of 7 · 43%" as the reader writes it; "—" when no deal entered
    worst: bool  # the core's verdict: this stage loses clearly more than the others


@dataclass(frozen=True, slots=True)
class LossChart:
    title: str
    subtitle: str
    verdict: str
    bars: list[LossBar]
    rtl: bool = False

    @property
    def worst(self) -> LossBar | None:
        return next((bar for bar in self.bars if bar.worst), None)

    def summary(self) -> str:
        """What the chart shows, as text: its alt text, stored in the PNG's Description."""
        rows = [
            f"{bar.label}: {bar.lost}/{bar.entered}" + (" ⚠" if bar.worst else "")
            if bar.entered
            else f"{bar.label}: —"
            for bar in self.bars
        ]
        return "\n".join([self.title, self.subtitle, self.verdict, *rows])


def loss_chart(report: ConversionReport, tr: Tr, stage_label: Callable[[Stage, Tr], str]) -> LossChart:
    """The chart of ``report`` in ``tr``'s words: a bar per stage, the core's lame stage marked."""
    worst_id = report.lame_stage.id if report.lame_stage is not None else None
    bars = [
        LossBar(
            label=stage_label(row.stage, tr),
            lost=row.lost,
            entered=row.entered,
            share=row.loss_rate,
            value=(
                tr("{lost} of {entered}", lost=tr.number(row.lost), entered=tr.number(row.entered))
                + " · "
                + tr.percent(row.loss_rate)
                if row.entered
                else "—"
            ),
            worst=row.stage.id == worst_id,
        )
        for row in report.rows
    ]
    days = max(round((report.period.end - report.period.start).total_seconds() / 86400), 1)
    subtitle = tr.ngettext(
        "Lost at each stage, last {n} day",
        "Lost at each stage, last {n} days",
        days,
    )
    worst = next((bar for bar in bars if bar.worst), None)
    if worst is not None:
        verdict = tr("Most are lost at {stage}.", stage=worst.label)
    elif report.enough_losses:
        verdict = tr("No stage stands out: losses are spread evenly.")
    else:
        verdict = tr("Too few deals lost yet to say where.")
    return LossChart(tr("Where deals are lost"), subtitle, verdict, bars, rtl=tr.rtl)


@dataclass
class _Pen:
    """Writes text top-down in points, mirrored for right-to-left readers, wrapping at a width."""

    axes: Any
    renderer: Any
    rtl: bool
    y: float = MARGIN

    def x(self, x: float) -> float:
        return WIDTH - x if self.rtl else x

    def width_of(self, text: str, size: float, bold: bool) -> float:
        probe = self.axes.text(0, 0, text, fontsize=size, fontweight="bold" if bold else "normal")
        extent = probe.get_window_extent(renderer=self.renderer)
        probe.remove()
        return float(extent.width) * 72 / DPI

    def wrap(self, text: str, size: float, width: float, bold: bool = False) -> list[str]:
        """``text`` in lines no wider than ``width``: broken between words, never inside one."""
        lines: list[str] = []
        for word in text.split(" "):
            if not word:
                continue
            if lines and self.width_of(lines[-1] + " " + word, size, bold) <= width:
                lines[-1] += " " + word
            else:
                lines.append(word)
        return lines or [""]

    def write(self, x: float, y: float, text: str, size: float, *, end: bool = False, **style: Any) -> None:
        """Text whose top is at ``y``, from ``x`` onwards (``end``: ending at ``x``), in reading order."""
        towards_end = end != self.rtl
        self.axes.text(
            self.x(x), y, text, fontsize=size, va="top", ha="right" if towards_end else "left", **style
        )

    def paragraph(self, text: str, size: float, **style: Any) -> None:
        for line in self.wrap(text, size, WIDTH - 2 * MARGIN, style.get("fontweight") == "bold"):
            self.write(MARGIN, self.y, line, size, **style)
            self.y += size * 1.3

    def bar(self, y: float, share: float, color: str) -> None:
        span = WIDTH - 2 * MARGIN
        self.axes.barh(y + BAR_PT / 2, span, left=MARGIN, height=BAR_PT, color=TRACK)
        if share > 0:
            filled = max(span * min(share, 1.0), 3.0)
            left = WIDTH - MARGIN - filled if self.rtl else MARGIN
            self.axes.barh(y + BAR_PT / 2, filled, left=left, height=BAR_PT, color=color)


def draw(chart: LossChart) -> bytes:
    """The PNG of ``chart``, as tall as its stages need; its alt text in the PNG's metadata."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, 8), dpi=DPI)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    pen = _Pen(axes, canvas.get_renderer(), chart.rtl)
    pen.paragraph(chart.title, TITLE_PT, fontweight="bold", color=INK)
    pen.paragraph(chart.subtitle, SMALL_PT, color=GREY)
    pen.y += 3
    worst = chart.worst
    pen.paragraph(("⚠ " if worst else "") + chart.verdict, TEXT_PT, color=RED if worst else INK)
    pen.y += GAP + 2
    for bar in chart.bars:
        color = RED if bar.worst else BLUE
        weight = "bold" if bar.worst else "normal"
        value_width = pen.width_of(bar.value, TEXT_PT, True)
        label_width = WIDTH - 2 * MARGIN - value_width - 10
        lines = pen.wrap(bar.label, TEXT_PT, label_width, bar.worst)
        text_color = (RED if bar.worst else INK) if bar.entered else GREY
        for number, line in enumerate(lines):
            y = pen.y + number * TEXT_PT * 1.25
            pen.write(MARGIN, y, line, TEXT_PT, color=text_color, fontweight=weight)
        pen.write(WIDTH - MARGIN, pen.y, bar.value, TEXT_PT, end=True, fontweight="bold", color=text_color)
        pen.y += len(lines) * TEXT_PT * 1.25 + 3
        pen.bar(pen.y, bar.share, color)
        pen.y += BAR_PT + GAP + 4
    height = pen.y + MARGIN - GAP
    figure.set_size_inches(WIDTH_IN, height / 72)
    axes.set_xlim(0, WIDTH)
    axes.set_ylim(height, 0)
    axes.axis("off")
    buffer = io.BytesIO()
    figure.savefig(
        buffer,
        format="png",
        facecolor="white",
        metadata={"Title": chart.title, "Description": chart.summary()},
    )
    return buffer.getvalue()
