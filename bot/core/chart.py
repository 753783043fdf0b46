"""The digest's chart: where deals are lost — per stage, the share of the deals that reached it in the
period and were lost there, the stage the core names as the worst one in red.

The chart only draws what the core computed (``ConversionReport``: the figures per stage and its
``lame_stage`` verdict); ``loss_chart`` puts them in the reader's words, ``draw`` makes the PNG.
It is drawn for a phone: Telegram shows a photo about 330 px wide, so the image is 720 px wide with
big type, stage names wrap instead of being cut, and an Arabic reader gets it mirrored, right to left
(matplotlib 3.11 shapes and orders Arabic text itself, with libraqm). Drawn with matplotlib's Agg
canvas (no GUI, no pyplot state). The bot draws it in the chart worker, a process of its own kept for
the next chart (bot/core/chart_worker.py), so that matplotlib is never resident in the bot itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.core.i18n import Tr, bare
from crm_core.domain.funnel import Stage
from crm_core.reports.models import ConversionReport

WIDTH_IN = 3.6
DPI = 200  # 720 px wide, shown about 330 px wide: the type below reads at 12-18 px on a phone
WIDTH = WIDTH_IN * 72  # the layout is in points
MARGIN = 13.0
TITLE_PT, TEXT_PT, SMALL_PT = 14.0, 11.0, 9.5
LINE = 1.25  # line height, in font sizes
LABELS = 0.42  # the stage names' share of the width; the bars take the rest
BAR_PT = 9.0
ROW_GAP = 8.0
RED, BLUE, INK, GREY, TRACK = "#d63939", "#4a6fa5", "#1f2328", "#6b7280", "#eef0f3"


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
        probe = self.axes.text(0, 0, bare(text), fontsize=size, fontweight="bold" if bold else "normal")
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
            self.x(x), y, bare(text), fontsize=size, va="top", ha="right" if towards_end else "left", **style
        )

    def paragraph(self, text: str, size: float, **style: Any) -> None:
        for line in self.wrap(text, size, WIDTH - 2 * MARGIN, style.get("fontweight") == "bold"):
            self.write(MARGIN, self.y, line, size, **style)
            self.y += size * 1.3

    def bar(self, x: float, y: float, span: float, bar: LossBar) -> None:
        """The figures of ``bar`` at ``x``, ``y`` and its bar under them, ``span`` long at 100%."""
        color = (RED if bar.worst else INK) if bar.entered else GREY
        self.write(x, y, bar.value, SMALL_PT, fontweight="bold" if bar.entered else "normal", color=color)
        middle = y + SMALL_PT * LINE + 2 + BAR_PT / 2
        self.axes.barh(middle, span, left=self._left(x, span), height=BAR_PT, color=TRACK)
        if bar.share > 0:
            filled = max(span * min(bar.share, 1.0), 2.5)
            fill = RED if bar.worst else BLUE
            self.axes.barh(middle, filled, left=self._left(x, filled), height=BAR_PT, color=fill)

    def _left(self, x: float, length: float) -> float:
        return WIDTH - x - length if self.rtl else x


def paint(chart: LossChart) -> bytes:
    """The PNG of ``chart``, drawn by the chart worker process (started on the first chart, then kept)."""
    from bot.core.chart_worker import WORKER

    return WORKER.draw(chart)


async def drawn(chart: LossChart) -> bytes:
    """``paint(chart)`` waited for in a thread of its own, the event loop going on meanwhile.

    A daemon thread, not ``asyncio.to_thread``: the loop's pool is joined when the process exits, so a
    chart still being drawn at SIGTERM (matplotlib's first import alone takes seconds on a busy machine)
    held the exit past the 10 s allowed. Abandoned, its digest keeps its outbox lease and goes out later.
    """
    loop = asyncio.get_running_loop()
    result: asyncio.Future[bytes] = loop.create_future()

    def settle(png: bytes | None, error: BaseException | None) -> None:
        if result.done():  # the waiting task was cancelled meanwhile
            return
        if error is not None:
            result.set_exception(error)
        else:
            result.set_result(png or b"")

    def work() -> None:
        png, failure = None, None
        try:
            png = paint(chart)
        except Exception as error:  # raised in the waiting task
            failure = error
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits for the chart
            loop.call_soon_threadsafe(settle, png, failure)

    threading.Thread(target=work, name="chart", daemon=True).start()
    return await result


def draw(chart: LossChart) -> bytes:
    """The PNG of ``chart``, as tall as its stages need; its alt text in the PNG's metadata."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, 8), dpi=DPI)
    canvas: Any = FigureCanvasAgg(figure)  # its get_renderer is untyped
    axes = figure.add_axes((0, 0, 1, 1))
    pen = _Pen(axes, canvas.get_renderer(), chart.rtl)
    pen.paragraph(chart.title, TITLE_PT, fontweight="bold", color=INK)
    pen.paragraph(chart.subtitle, SMALL_PT, color=GREY)
    pen.y += 2
    worst = chart.worst
    pen.paragraph(("⚠ " if worst else "") + chart.verdict, TEXT_PT, color=RED if worst else INK)
    pen.y += ROW_GAP + 2
    inner = WIDTH - 2 * MARGIN
    labels, bars_at = inner * LABELS, MARGIN + inner * LABELS + 6
    for bar in chart.bars:
        weight = "bold" if bar.worst else "normal"
        lines = pen.wrap(bar.label, TEXT_PT, labels, bar.worst)
        figures = SMALL_PT * LINE + 2 + BAR_PT
        height = max(len(lines) * TEXT_PT * LINE, figures)
        top = pen.y + (height - len(lines) * TEXT_PT * LINE) / 2
        color = (RED if bar.worst else INK) if bar.entered else GREY
        for number, line in enumerate(lines):
            pen.write(MARGIN, top + number * TEXT_PT * LINE, line, TEXT_PT, color=color, fontweight=weight)
        pen.bar(bars_at, pen.y + (height - figures) / 2, WIDTH - MARGIN - bars_at, bar)
        pen.y += height + ROW_GAP
    height = pen.y + MARGIN - ROW_GAP
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
