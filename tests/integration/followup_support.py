"""What the follow-up tests share: ticking a stopped clock forward, and reading the queued notifications."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from crm_core.domain.users import User
from crm_core.ports import FixedClock
from crm_core.services import Crm
from crm_core.services.followups import TickReport
from tests.integration.support import outbox

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


async def queued(crm: Crm, kind: str) -> list[dict[str, Any]]:
    """The queued notifications of one kind, oldest first."""
    return [row for row in await outbox(crm) if row["kind"] == kind]


async def tick_at(crm: Crm, clock: FixedClock, moment: datetime) -> TickReport:
    """Stop the clock at ``moment`` and run one follow-up tick, as the scheduler would."""
    clock.current = moment
    return await crm.followups.tick(moment)


async def tick_until(
    crm: Crm, clock: FixedClock, end: datetime, *, every: timedelta = 30 * MINUTE, digest: bool = False
) -> TickReport:
    """Tick every ``every`` from the clock's time (exclusive) to ``end`` (inclusive); the reports summed."""
    total = TickReport()
    moment = clock.now() + every
    while moment <= end:
        clock.current = moment
        report = await (crm.followups.digest_tick(moment) if digest else crm.followups.tick(moment))
        for name in ("reminders", "reminded_deals", "escalations", "tasks_due", "repeats"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        total.morning_plans += report.morning_plans
        total.digests += report.digests
        total.details += report.details
        moment += every
    clock.current = end
    return total


def recipients(rows: list[dict[str, Any]]) -> list[int]:
    return [row["recipient_id"] for row in rows]


async def without_morning_plans(crm: Crm, *users: User) -> None:
    """Switch the users' morning plans off: each reminder and due task then comes as a message of its own
    (with the plan on, what is due when the plan comes is in it: see test_morning_plan)."""
    for user in users:
        await crm.followups.set_preferences(actor=user, morning_plan=False)
