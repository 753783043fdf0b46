"""Two funnels for the tests that need several: today's (Sales, the default) and Renewals."""

from __future__ import annotations

from datetime import timedelta

from crm_core.domain.funnel import Pipeline, StageKind, StageSpec
from crm_core.services import Crm

RENEWALS = [
    StageSpec("Due", StageKind.INBOX, timedelta(days=1), probability=10),
    StageSpec("Talk", StageKind.OPEN, timedelta(days=3), probability=50),
    StageSpec("Renewed", StageKind.WON, probability=100),
    StageSpec("Churned", StageKind.LOST),
]


async def two_funnels(crm: Crm) -> tuple[Pipeline, Pipeline]:
    """Sales (the funnel the database has, the default) and Renewals after it."""
    async with crm.db.uow() as uow:
        await uow.pipelines.create("Renewals", RENEWALS, is_default=False, position=2)
        await uow.commit()
    first, second = await crm.pipelines.list()
    assert (first.name, second.name) == ("Sales", "Renewals")
    return first, second
