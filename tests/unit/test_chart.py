"""The digest's funnel chart: a PNG of a sensible size, drawn in English, Russian and Arabic.

Each chart is also saved under tests/artifacts/ to be looked at (the folder is not committed).
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.core.chart import Bar, funnel_chart
from bot.core.i18n import Tr
from crm_core.domain.funnel import DEFAULT_FUNNEL, StageKind

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
OPEN_STAGES = [s.name for s in DEFAULT_FUNNEL if s.kind in (StageKind.INBOX, StageKind.OPEN)]
COUNTS = [14, 9, 6, 0, 2, 1]
AMOUNTS = ["120000", "455000.50", "910000", "0", "1250000", "99000"]
RATES = [0.64, 0.5, None, 0.0, 0.5, None]


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def draw(locale: str, counts: list[int] = COUNTS) -> bytes:
    """The chart as the digest draws it for a reader of ``locale``."""
    tr = Tr(locale)
    bars = [
        Bar(tr(name), count, tr.money(Decimal(amount), "RUB") if count else "—")
        for name, count, amount in zip(OPEN_STAGES, counts, AMOUNTS, strict=True)
    ]
    rates = [tr.percent(rate) if rate is not None else None for rate in RATES]
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    title = tr("Funnel") + " · " + tr.when(now, now=now, relative=False)  # as the digest's
    return funnel_chart(bars, rates, title=title, rtl=tr.rtl)


@pytest.mark.parametrize("locale", ["en", "ru", "ar"])
def test_the_funnel_chart_is_a_png_a_phone_shows_sharply(locale: str) -> None:
    png = draw(locale)
    width, height = png_size(png)
    assert 1000 <= width <= 1400 and 600 <= height <= 1200
    assert 15_000 < len(png) < 400_000  # drawn, not blank; small enough to send at once
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"funnel-chart-{locale}.png").write_bytes(png)


def test_the_chart_grows_with_the_number_of_stages_and_copes_with_none() -> None:
    few = funnel_chart([Bar("A", 1, "1 ₽")], [], title="Funnel")
    many = draw("en")
    empty = funnel_chart([], [], title="Funnel")
    assert png_size(few)[1] < png_size(many)[1]
    assert png_size(empty)[0] == png_size(many)[0]


def test_an_all_empty_funnel_still_draws() -> None:
    png = draw("en", [0] * len(OPEN_STAGES))
    assert png_size(png)[0] > 0
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "funnel-chart-empty.png").write_bytes(png)
