"""The benchmark table as Markdown: the figures of this run, with the machine they ran on."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bench.common import Options, Result, Skipped

MARK = "<!-- bench:table -->"
INTRO = """# Performance

Kanbot should never be the slow part: not between a seller's tap and the new card, not between a
ringing phone and the pop-up card, not when a boss with a million deals asks for the funnel. `make bench`
(`python -m bench`) measures each hot path next to its floor — the framework or the database doing the
same work with nothing of ours — in the same run, and reports the ratio, which holds on a noisy machine
where the absolute figures do not. `make bench-quick` is a two-minute subset on smaller data (it prints
its table and writes `bench/data/performance-quick.md`). The PostgreSQL rows need
`KANBOT_TEST_DATABASE_URL`; without it they are skipped. `tests/test_bench_smoke.py` runs every
benchmark's code path once on tiny data, so the suite cannot rot; the test suite has no timing
assertions.

The datasets come from a seeded generator (`bench/data_gen.py`) and are cached: SQLite files under
`bench/data/` and PostgreSQL databases `kanbot_bench_*`, named by a hash of the generator's parameters,
its version and the migration head, so they are rebuilt only when one of those changes.
"""


def _git() -> str:
    """The commit measured: HEAD when the run started, and whether the tree had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        status = ["git", "status", "--porcelain", "--untracked-files=no"]
        dirty = subprocess.run(status, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return f"{head} with uncommitted changes" if dirty else head


STARTED_AT = _git()  # read when the run starts: the code it imports is the code it measures


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    cpu = platform.processor() or platform.machine()
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} CPUs ({cpu}) · Python "
        f"{platform.python_version()} · {platform.system()} {platform.release()} · "
        f"load average at the end {load} · commit {STARTED_AT}"
    )


def render(results: list[Result], skipped: list[Skipped], options: Options, *, quick: bool) -> str:
    lines = [
        f"Run: {'`--quick`' if quick else 'full'} · {machine()}",
        "",
        "| Benchmark | Backend | What | Kanbot | Floor | Ratio | Target | |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        cells = [r.bench, r.backend, r.measure, r.ours, r.floor, r.ratio_text(), r.target, r.verdict()]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    notes = [f"- {r.bench} ({r.backend}): {note}" for r in results for note in r.notes]
    notes += [f"- Skipped ({s.backend}, {s.bench}): {s.reason}" for s in skipped]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def write(
    path: Path, results: list[Result], skipped: list[Skipped], options: Options, *, quick: bool
) -> None:
    """Write the table; in docs/performance.md it replaces the part between the markers, keeping the prose."""
    table = render(results, skipped, options, quick=quick)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and MARK in path.read_text():
        before, _, rest = path.read_text().partition(MARK)
        _, _, after = rest.partition(MARK)
        path.write_text(f"{before}{MARK}\n{table}{MARK}{after}")
    else:
        path.write_text(f"{INTRO}\n## Latest run\n\n{MARK}\n{table}{MARK}\n")
