"""The digest's chart is drawn in a worker process kept for the next chart, so that matplotlib is never
resident in the bot: the worker's PNG is the one drawn in-process, a worker that died is started again,
and an error in the drawing comes back as an error, the worker still serving."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from bot.core.chart import LossBar, LossChart, draw, loss_chart
from bot.core.chart_worker import ChartError, ChartWorker, decode, encode
from bot.core.features.cards import stage_label
from bot.core.i18n import Tr
from tests.unit.test_chart import report


@pytest.fixture
def worker() -> Iterator[ChartWorker]:
    worker = ChartWorker()
    yield worker
    worker.stop()


def test_a_chart_goes_to_the_worker_and_back_unchanged() -> None:
    chart = loss_chart(report("Commercial offer"), Tr("ar"), stage_label)
    assert decode(encode(chart)) == chart


def test_the_worker_draws_the_same_png_is_kept_and_is_started_again_once_dead(worker: ChartWorker) -> None:
    chart = loss_chart(report("Commercial offer"), Tr("en"), stage_label)
    assert worker.pid is None, "started on the first chart, not before"
    assert worker.draw(chart) == draw(chart)
    first = worker.pid
    assert first is not None and first != os.getpid()
    worker.draw(chart)
    assert worker.pid == first, "kept for the next chart"
    os.kill(first, signal.SIGKILL)
    assert worker.draw(chart) == draw(chart)
    assert worker.pid not in (None, first)


def test_a_chart_the_worker_cannot_draw_raises_and_the_worker_goes_on(worker: ChartWorker) -> None:
    good = loss_chart(report(None), Tr("en"), stage_label)
    bad = LossChart("t", "s", "v", [LossBar("x", 1, 2, "half", "1 of 2", False)])  # type: ignore[arg-type]
    with pytest.raises(ChartError, match="TypeError"):
        worker.draw(bad)
    assert worker.draw(good) == draw(good)
