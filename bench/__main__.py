"""`python -m bench [--quick] [--only 1,4]`: run the benchmarks; the full run writes docs/performance.md."""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import ami, buttons, calls, memory, outbox, reports, stale
from bench.common import Options, Result, Skipped, log
from bench.datasets import PG_ENV, postgres_server
from bench.report import render, write

Bench = Callable[[Options], Awaitable[list[Result]]]
BENCHMARKS: dict[int, tuple[str, Bench]] = {
    1: ("button press to new card", buttons.run),
    2: ("call to deal", calls.run),
    3: ("AMI throughput", ami.run),
    4: ("funnel and conversion reports", reports.run),
    5: ("stale sweep", stale.run),
    6: ("outbox delivery", outbox.run),
    7: ("memory", memory.run),
}
DOC = Path(__file__).parent.parent / "docs" / "performance.md"
QUICK_DOC = Path(__file__).parent / "data" / "performance-quick.md"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the two-minute subset (smaller datasets)")
    parser.add_argument("--only", default="", help="comma-separated benchmark numbers, e.g. 1,4")
    parser.add_argument("--output", type=Path, help="where to write the table (default: see --help)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)
    chosen = [int(n) for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    options = Options(size="quick" if args.quick else "full", postgres_url=postgres_server())
    results, skipped = asyncio.run(_run(options, chosen))
    table = render(results, skipped, options, quick=args.quick)
    print(table)
    output = args.output or (QUICK_DOC if args.quick or args.only else DOC)
    write(output, results, skipped, options, quick=args.quick)
    log.info("wrote %s", output)


async def _run(options: Options, chosen: list[int]) -> tuple[list[Result], list[Skipped]]:
    results: list[Result] = []
    skipped: list[Skipped] = []
    if options.postgres_url is None:
        skipped.append(
            Skipped("all", "PostgreSQL", f"{PG_ENV} is not set: the PostgreSQL parts were skipped")
        )
    for number in chosen:
        name, bench = BENCHMARKS[number]
        log.info("— %d. %s%s", number, name, " (quick)" if options.quick else "")
        started = time.monotonic()
        results += await bench(options)
        log.info("  %d. took %.0f s", number, time.monotonic() - started)
    return results, skipped


if __name__ == "__main__":
    main()
