"""The benchmark suite runs: every benchmark's code path once, on tiny data, SQLite only; no timings checked.

Each benchmark checks its own work as it goes (every press moved its deal once, every call made its
deal and task, every chat got its messages, the hand-written SQL agrees with the service), so running
them here keeps those checks and the suite itself from rotting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bench import ami, buttons, calls, memory, outbox, reports, stale
from bench.common import DATA_ENV, SQLITE, Options, Result
from bench.report import render

pytestmark = pytest.mark.slow  # each benchmark starts its processes

Bench = Callable[[Options], Awaitable[list[Result]]]
SMOKE = Options(size="smoke", postgres_url=None, backends=(SQLITE,))


@pytest.fixture(autouse=True)
def _tiny_datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_ENV, str(tmp_path))


# Rows a benchmark must give (each also in the rendered table), beyond its ratio to a floor.
ROWS = {
    "buttons": {
        "1. Button press vs a peer bot",
        "1. Button press vs the bare driver",
        "1. Button press vs the echo",
    },
    "calls": {"2. Call to deal"},
}


@pytest.mark.parametrize(
    "bench",
    [buttons.run, calls.run, ami.run, reports.run, stale.run, outbox.run, memory.run],
    ids=["buttons", "calls", "ami", "reports", "stale", "outbox", "memory"],
)
async def test_each_benchmark_runs_once_on_tiny_data_and_reports_a_ratio(
    bench: Bench, request: pytest.FixtureRequest
) -> None:
    results = await bench(SMOKE)
    assert results
    expected = ROWS.get(request.node.callspec.id, set())
    assert expected <= {result.bench for result in results}
    table = render(results, [], SMOKE, quick=True)
    assert all(f"| {row} | {SQLITE} |" in table for row in expected)
    for result in results:
        assert result.ratio is not None and result.ratio > 0
        assert result.ours and result.floor and result.target
