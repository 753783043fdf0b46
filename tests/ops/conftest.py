"""Operations tests: real ``kanbot`` processes, their HTTP endpoints, signals, the operator's CLI.

``crm`` is the team's CRM of tests/support/team.py; the emulator comes from tests/support/fixtures.py.
"""

from __future__ import annotations

from tests.support.team import crm  # noqa: F401  (a fixture, taken by name)
