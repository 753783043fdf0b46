"""The digest's chart: where deals are lost, per stage, with the stage the core names marked — drawn for
a phone in English, Russian and Arabic.

Each chart is also saved under tests/artifacts/ to be looked at (the folder is not committed).
"""

from __future__ import annotations

import asyncio
import io
import struct
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.core import chart as chart_module
from bot.core.chart import draw, drawn, loss_chart
from bot.core.features.cards import stage_label
from bot.core.i18n import Tr
from crm_core.domain.funnel import DEFAULT_FUNNEL, Stage, StageKind
from crm_core.reports.models import ConversionReport, ConversionRow, Period

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
UNTIL = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STAGES = [
    Stage(number, 1, spec.name, number, spec.kind)
    for number, spec in enumerate(DEFAULT_FUNNEL, start=1)
    if spec.kind in (StageKind.INBOX, StageKind.OPEN)
]
# (entered, advanced, won, lost) per open stage: most deals are lost at Unsorted, but the highest
# share at Commercial offer
FIGURES = [(40, 30, 0, 8), (30, 20, 1, 6), (20, 8, 2, 9), (8, 6, 0, 1), (0, 0, 0, 0), (5, 0, 4, 0)]


def report(lame: str | None, *, enough: bool = True) -> ConversionReport:
    rows = [ConversionRow(stage, *figures) for stage, figures in zip(STAGES, FIGURES, strict=True)]
    worst = next((s for s in STAGES if s.name == lame), None)
    return ConversionReport(Period(UNTIL - timedelta(days=30), UNTIL), rows, worst, 0.2, enough)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_the_chart_plots_each_stages_losses_and_marks_the_stage_the_core_names() -> None:
    chart = loss_chart(report("Commercial offer"), Tr("en"), stage_label)
    assert [(b.label, b.lost, b.entered) for b in chart.bars] == [
        ("Unsorted", 8, 40),
        ("Opportunity", 6, 30),
        ("Commercial offer", 9, 20),
        ("Document approval", 1, 8),
        ("Signing & payment", 0, 0),
        ("Execution", 0, 5),
    ]
    assert [b.share for b in chart.bars] == [0.2, 0.2, 0.45, 0.125, 0.0, 0.0]
    assert [b.label for b in chart.bars if b.worst] == ["Commercial offer"]
    assert chart.bars[2].value == "9 of 20 · 45%" and chart.bars[4].value == "—"
    assert chart.title == "Where deals are lost"
    assert chart.subtitle == "Lost at each stage, last 30 days"
    assert chart.verdict == "Most are lost at Commercial offer."


def test_the_chart_marks_no_stage_when_the_core_names_none() -> None:
    """The chart does not pick a worst stage of its own, even where one stage lost the most."""
    even = loss_chart(report(None), Tr("en"), stage_label)
    assert not any(b.worst for b in even.bars)
    assert even.verdict == "No stage stands out: losses are spread evenly."
    early = loss_chart(report(None, enough=False), Tr("en"), stage_label)
    assert early.verdict == "Too few deals lost yet to say where."


def test_the_chart_speaks_the_readers_language_and_writes_numbers_their_way() -> None:
    ru = loss_chart(report("Commercial offer"), Tr("ru"), stage_label)
    assert ru.bars[2].label == "Коммерческое предложение" and ru.bars[2].value == "9 из 20 · 45\xa0%"
    assert ru.title == "Где теряются сделки"
    ar = loss_chart(report("Commercial offer"), Tr("ar"), stage_label)
    assert ar.rtl and ar.bars[2].label == "عرض تجاري" and ar.title == "أين تضيع الصفقات"


@pytest.mark.parametrize("locale", ["en", "ru", "ar"])
def test_the_chart_is_a_png_a_phone_shows_sharply(locale: str) -> None:
    chart = loss_chart(report("Commercial offer"), Tr(locale), stage_label)
    png = draw(chart)
    width, height = png_size(png)
    assert width == 720 and 500 <= height <= 1400  # 720 px: a phone's photo width, twice over
    assert 10_000 < len(png) < 400_000  # drawn, not blank; small enough to send at once
    assert Image.open(io.BytesIO(png)).text["Description"] == chart.summary()  # its alt text
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"loss-chart-{locale}.png").write_bytes(png)


def test_a_long_stage_name_wraps_and_the_chart_grows_instead_of_cutting_it() -> None:
    short = draw(loss_chart(report(None), Tr("en"), stage_label))
    named = [
        Stage(s.id, 1, "Technical pre-sale assessment with the customer's engineers", s.position, s.kind)
        if s.name == "Opportunity"
        else s
        for s in STAGES
    ]
    rows = [ConversionRow(stage, *figures) for stage, figures in zip(named, FIGURES, strict=True)]
    month = Period(UNTIL - timedelta(days=30), UNTIL)
    long = draw(loss_chart(ConversionReport(month, rows, None, 0.2), Tr("en"), stage_label))
    assert png_size(long)[1] > png_size(short)[1]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "loss-chart-long-name.png").write_bytes(long)


def test_a_chart_with_no_deals_anywhere_still_draws() -> None:
    month = Period(UNTIL - timedelta(days=30), UNTIL)
    empty = ConversionReport(month, [ConversionRow(s, 0, 0, 0, 0) for s in STAGES], None, 0.0, False)
    png = draw(loss_chart(empty, Tr("en"), stage_label))
    assert png_size(png)[0] == 720


async def test_a_chart_drawn_off_the_event_loop_comes_back_as_the_same_png_and_its_errors_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chart = loss_chart(report("Commercial offer"), Tr("en"), stage_label)
    assert await drawn(chart) == draw(chart)

    def broken(chart: object) -> bytes:
        raise ValueError("no fonts")

    monkeypatch.setattr(chart_module, "paint", broken)
    with pytest.raises(ValueError, match="no fonts"):
        await drawn(chart)


def test_a_process_that_stops_while_a_chart_is_drawn_does_not_wait_for_the_chart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A SIGTERMed process's event loop closes with a chart still being drawn (matplotlib's import alone
    takes seconds on a busy machine): its end must not wait for the drawing, as it did for a thread of
    asyncio's pool."""
    drawing, release, loop_closed = threading.Event(), threading.Event(), threading.Event()

    def slow_draw(chart: object) -> bytes:
        drawing.set()
        release.wait()
        return b"png"

    monkeypatch.setattr(chart_module, "paint", slow_draw)

    async def stop_while_drawing() -> None:
        asyncio.get_running_loop().create_task(drawn(loss_chart(report(None), Tr("en"), stage_label)))
        await asyncio.to_thread(drawing.wait)
        # the process stops here: asyncio.run cancels what is left and closes the loop

    def process() -> None:
        asyncio.run(stop_while_drawing())
        loop_closed.set()

    threading.Thread(target=process, daemon=True).start()
    try:
        assert loop_closed.wait(timeout=60), "the event loop's end waited for the chart being drawn"
    finally:
        release.set()  # the drawing thread ends; its result goes nowhere
