"""Two funnels for the tests that need several: today's (Sales, the default) and Renewals, applied as
one funnel file, as `kanbot pipeline apply` does."""

from __future__ import annotations

from typing import Any

from crm_core.domain.funnel import Pipeline
from crm_core.services import Crm
from crm_core.services.funnel_file import funnels_spec_from_document

RENEWALS: dict[str, Any] = {
    "pipeline": "Renewals",
    "stages": [
        {"name": "Due", "kind": "inbox", "follow_up": "1d", "probability": 10},
        {"name": "Talk", "kind": "open", "follow_up": "3d", "probability": 50},
        {"name": "Renewed", "kind": "won", "probability": 100},
        {"name": "Churned", "kind": "lost"},
    ],
}


async def two_funnels(crm: Crm) -> tuple[Pipeline, Pipeline]:
    """Sales (the funnel the database has, the default) and Renewals after it."""
    sales = await crm.pipelines.document()
    reasons = sales.pop("lost_reasons", None)
    doc = {"pipelines": [{**sales, "default": True}, RENEWALS], "lost_reasons": reasons}
    await crm.pipelines.apply(funnels_spec_from_document(doc))
    first, second = await crm.pipelines.list()
    assert (first.name, second.name) == ("Sales", "Renewals")
    return first, second
