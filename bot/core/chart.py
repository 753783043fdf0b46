"""The digest's funnel chart: horizontal bars per stage with counts, and the conversion between them.

Drawn with matplotlib's Agg canvas (no GUI, no pyplot state), so it can run in a worker thread off the
event loop. Arabic labels need no help: matplotlib 3.11 shapes and orders them (libraqm).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

WIDTH_IN = 6.4
DPI = 180
COLORS = ("#9ec5fe", "#6ea8fe", "#3d8bfd", "#0d6efd", "#0a58ca", "#084298", "#052c65")


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # the stage's name, in the reader's language
    count: int
    detail: str  # e.g. "45 000 ₽"


def funnel_chart(bars: list[Bar], conversions: list[str | None], *, title: str, rtl: bool = False) -> bytes:
    """A PNG of the funnel. ``conversions[i]`` is the label between bar i and bar i+1 (e.g. "60%")."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    height = 0.9 + 0.62 * max(len(bars), 1)
    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.02, 0.02, 0.96, 0.86))
    widest = max((b.count for b in bars), default=0) or 1
    for row, bar in enumerate(bars):
        width = max(bar.count / widest, 0.04)
        y = len(bars) - 1 - row
        color = COLORS[min(row, len(COLORS) - 1)] if bar.count else "#dee2e6"
        axes.barh(y, width, left=(1 - width) / 2, height=0.62, color=color)
        if width > 0.12:
            axes.text(
                0.5,
                y,
                str(bar.count),
                ha="center",
                va="center",
                fontsize=11,
                fontweight="bold",
                color="white",
            )
        else:  # a narrow bar: the number goes beside it, where it can be read
            axes.text(
                0.5 + width / 2 + 0.02,
                y,
                str(bar.count),
                ha="left",
                va="center",
                fontsize=11,
                fontweight="bold",
                color="#052c65",
            )
        label = bar.label
        axes.text(
            0.0 if not rtl else 1.0,
            y + 0.36,
            label,
            ha="left" if not rtl else "right",
            va="bottom",
            fontsize=9.5,
            color="#212529",
        )
        axes.text(
            1.0 if not rtl else 0.0,
            y + 0.36,
            bar.detail,
            ha="right" if not rtl else "left",
            va="bottom",
            fontsize=9,
            color="#6c757d",
        )
        if row < len(conversions) and conversions[row] and row + 1 < len(bars):
            axes.text(
                0.5,
                y - 0.5,
                "↓ " + (conversions[row] or ""),
                ha="center",
                va="center",
                fontsize=8.5,
                color="#198754",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
            )
    axes.set_xlim(0, 1)
    axes.set_ylim(-0.45, len(bars) - 0.3)
    axes.axis("off")
    figure.suptitle(title, fontsize=13, fontweight="bold", color="#212529", y=0.97)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()
