"""Every new deal starts the same way, whoever brings it: the domain's ``Deal.start``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from crm_core.domain.deals import Deal, Source
from crm_core.domain.errors import InvalidInput, Why
from crm_core.domain.funnel import DEFAULT_FUNNEL, Pipeline, Stage
from crm_core.domain.history import Actor, EventKind
from crm_core.domain.users import Role, User

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALICE = User(1, 1001, "Alice", Role.SELLER)
PIPELINE = Pipeline(
    1,
    "Sales",
    True,
    tuple(
        Stage(i, 1, s.name, i, s.kind, s.follow_up_after, s.playbook, s.probability)
        for i, s in enumerate(DEFAULT_FUNNEL, start=1)
    ),
)
ROOT = Path(__file__).resolve().parents[2]


def test_a_new_deal_starts_in_the_inbox_and_its_history_opens_with_what_it_started_with() -> None:
    deal = Deal.start(
        pipeline=PIPELINE, title="ACME", currency="EUR", at=T0, amount=Decimal("10"), owner=ALICE
    )
    assert (deal.stage, deal.created_at, deal.stage_entered_at, deal.closed_at) == (
        PIPELINE.inbox,
        T0,
        T0,
        None,
    )
    deal.id = 5
    event = deal.created_event(Actor.of(ALICE))
    assert (event.deal_id, event.kind, event.at, event.to_stage_id) == (
        5,
        EventKind.CREATED,
        T0,
        PIPELINE.inbox.id,
    )
    assert event.data == {
        "title": "ACME",
        "amount": "10",
        "currency": "EUR",
        "owner": ALICE.id,
        "source": "manual",
        "priority": "normal",
    }


def test_only_an_import_brings_a_deal_that_is_already_closed() -> None:
    with pytest.raises(InvalidInput) as refusal:
        Deal.start(pipeline=PIPELINE, title="ACME", currency="EUR", at=T0, stage=PIPELINE.lost)
    assert refusal.value.reason is Why.STARTS_OPEN
    imported = Deal.start(
        pipeline=PIPELINE,
        title="ACME",
        currency="EUR",
        at=T0,
        stage=PIPELINE.lost,
        source=Source.IMPORT,
        lost_reason="Price",
    )
    assert (imported.closed_at, imported.lost_reason) == (T0, "Price")
    assert imported.created_event(Actor.system_because("import line 2")).data["lost_reason"] == "Price"


def test_a_deal_starts_in_a_stage_of_its_own_pipeline() -> None:
    elsewhere = Stage(99, 2, "Elsewhere", 1, PIPELINE.inbox.kind, None, None, 0)
    with pytest.raises(InvalidInput) as refusal:
        Deal.start(pipeline=PIPELINE, title="ACME", currency="EUR", at=T0, stage=elsewhere)
    assert refusal.value.reason is Why.OTHER_PIPELINE


def test_no_service_builds_a_deal_but_through_the_factory() -> None:
    built = re.compile(r"\bDeal\(\s*\n?\s*id=")
    makers = [
        str(path.relative_to(ROOT))
        for package in ("crm_core/services", "crm_core/reports", "bot", "telephony_bridge", "kanbot")
        for path in (ROOT / package).rglob("*.py")
        if built.search(path.read_text())
    ]
    assert makers == []
