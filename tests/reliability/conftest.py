"""Reliability fixtures: Kanbot and the team's chat as in the e2e tests (tests/support/team.py), and the
closing summary.

Tests marked ``reliability`` are the long ones (``make reliability``); they are left out of every run
whose ``-m`` does not ask for them, whatever else it selects (``-m "not browser"`` included).
"""

from __future__ import annotations

import pytest

from tests.reliability.nothing_lost import TALLY
from tests.support.team import chat, crm, guests, kanbot, runtime  # noqa: F401  (fixtures, taken by name)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "reliability" in (config.getoption("markexpr") or ""):
        return
    long_ones = [item for item in items if item.get_closest_marker("reliability")]
    if long_ones:
        config.hook.pytest_deselected(items=long_ones)
        items[:] = [item for item in items if not item.get_closest_marker("reliability")]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What the reliability tests tried and checked (not shown by pytest-xdist's workers)."""
    if TALLY.cases or TALLY.checks:
        terminalreporter.section("reliability summary")
        for line in TALLY.lines():
            terminalreporter.write_line(line)
