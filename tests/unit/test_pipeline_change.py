"""A deal changing pipeline, by the domain's rules alone (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crm_core.domain.deals import Deal
from crm_core.domain.errors import DealClosed, InvalidInput, Why
from crm_core.domain.funnel import DEFAULT_FUNNEL, Pipeline, Stage, StageKind, StageSpec
from crm_core.domain.history import Actor, EventKind, last_undoable
from crm_core.services.funnel import funnels_document, funnels_spec_from_document

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ME = Actor.system_because("test")


def pipeline(pipeline_id: int, name: str, specs: list[StageSpec], first_id: int) -> Pipeline:
    stages = tuple(
        Stage(first_id + i, pipeline_id, s.name, i + 1, s.kind, s.follow_up_after, s.playbook, s.probability)
        for i, s in enumerate(specs)
    )
    return Pipeline(pipeline_id, name, pipeline_id == 1, stages)


SALES = pipeline(1, "Sales", list(DEFAULT_FUNNEL), 1)
RENEWALS = pipeline(
    2,
    "Renewals",
    [
        StageSpec("New renewal", StageKind.INBOX, timedelta(hours=4)),
        StageSpec("Quote", StageKind.OPEN, timedelta(days=2)),
        StageSpec("Renewed", StageKind.WON),
        StageSpec("Churned", StageKind.LOST),
    ],
    101,
)


def deal_in(stage: str) -> Deal:
    deal = Deal.start(pipeline=SALES, title="ACME", currency="RUB", at=T0, stage=SALES.find(stage))
    deal.id = 7
    return deal


@pytest.mark.parametrize(
    ("stage", "lands"),
    [("Unsorted", "New renewal"), ("Opportunity", "Quote"), ("Commercial offer", "New renewal")],
)
def test_a_deal_lands_at_the_same_place_on_the_other_path_or_in_its_inbox(stage: str, lands: str) -> None:
    assert RENEWALS.counterpart(SALES, SALES.find(stage)).name == lands


def test_a_pipeline_change_is_a_new_start_with_both_names_in_its_history_line() -> None:
    deal = deal_in("Opportunity")
    moved = deal.move_to(SALES.find("Commercial offer"), at=T0 + timedelta(hours=1), actor=ME)
    moved.id = 1
    event = deal.change_pipeline(SALES, RENEWALS, at=T0 + timedelta(hours=2), actor=ME)
    event.id = 2
    assert (deal.pipeline_id, deal.stage.name, deal.stage_entered_at) == (
        2,
        "New renewal",
        T0 + timedelta(hours=2),
    )
    assert event.kind is EventKind.PIPELINE_CHANGED
    assert event.data == {"from_pipeline": "Sales", "to_pipeline": "Renewals"}
    assert (event.from_stage_id, event.to_stage_id) == (SALES.find("Commercial offer").id, deal.stage.id)
    assert last_undoable([moved, event]) is None  # the move before it cannot be undone across it


def test_a_pipeline_change_is_refused_when_it_cannot_be() -> None:
    deal = deal_in("Opportunity")
    with pytest.raises(InvalidInput) as same:
        deal.change_pipeline(SALES, SALES, at=T0, actor=ME)
    assert same.value.reason is Why.UNCHANGED
    with pytest.raises(InvalidInput) as closing:
        deal.change_pipeline(SALES, RENEWALS, at=T0, actor=ME, stage=RENEWALS.won)
    assert closing.value.reason is Why.ARRIVES_OPEN
    with pytest.raises(InvalidInput) as foreign:
        deal.change_pipeline(SALES, RENEWALS, at=T0, actor=ME, stage=SALES.find("Execution"))
    assert foreign.value.reason is Why.OTHER_PIPELINE
    deal.move_to(SALES.won, at=T0, actor=ME)
    with pytest.raises(DealClosed):
        deal.change_pipeline(SALES, RENEWALS, at=T0, actor=ME)
    assert deal.pipeline_id == 1


def test_a_closed_deal_carried_out_of_a_removed_pipeline_stays_closed_as_it_was() -> None:
    deal = deal_in("Opportunity")
    deal.move_to(SALES.lost, at=T0, actor=ME, lost_reason="Price")
    event = deal.carry_closed(SALES, RENEWALS, at=T0 + timedelta(days=1), actor=ME)
    assert (deal.stage.name, deal.closed_at, deal.lost_reason) == ("Churned", T0, "Price")
    assert deal.reopen_stage(RENEWALS) == RENEWALS.inbox
    assert event.data == {"from_pipeline": "Sales", "to_pipeline": "Renewals"}


def test_two_pipelines_as_a_document_read_back_as_the_same_file() -> None:
    numbered = Pipeline(2, "Renewals", False, RENEWALS.stages, ("+74951230001",))
    document = funnels_document([SALES, numbered], ["Price"])
    spec = funnels_spec_from_document(document)
    assert [(p.name, p.id, p.is_default, p.numbers) for p in spec.pipelines] == [
        ("Sales", 1, True, []),
        ("Renewals", 2, False, ["+74951230001"]),
    ]
    assert [s.name for s in spec.pipelines[1].stages] == ["New renewal", "Quote", "Renewed", "Churned"]
    assert spec.lost_reasons == ["Price"] and not spec.single
    single = funnels_spec_from_document(funnels_document([SALES], ["Price"]))
    assert single.single and single.pipelines[0].is_default
