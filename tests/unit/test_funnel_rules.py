"""A funnel must be one deals can walk through: its stages are checked before anything is stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from crm_core.domain.errors import InvalidInput, NotFound
from crm_core.domain.funnel import DEFAULT_FUNNEL, Pipeline, Stage, StageKind, StageSpec, check_stage_specs
from crm_core.services.funnel import funnel_document, funnel_spec_from_document

DEFAULT = list(DEFAULT_FUNNEL)


def default_pipeline() -> Pipeline:
    stages = tuple(
        Stage(i, 1, s.name, i, s.kind, s.follow_up_after, s.playbook, s.probability)
        for i, s in enumerate(DEFAULT_FUNNEL, start=1)
    )
    return Pipeline(1, "Sales", True, stages)


def test_the_default_funnel_is_valid_and_in_the_documented_order() -> None:
    check_stage_specs(DEFAULT)
    assert [(s.name, s.kind.value, s.follow_up_after) for s in DEFAULT] == [
        ("Unsorted", "inbox", timedelta(hours=2)),
        ("Opportunity", "open", timedelta(days=3)),
        ("Commercial offer", "open", timedelta(days=3)),
        ("Document approval", "open", timedelta(days=5)),
        ("Signing & payment", "open", timedelta(days=3)),
        ("Execution", "open", timedelta(days=14)),
        ("Won", "won", None),
        ("Lost", "lost", None),
    ]


@pytest.mark.parametrize(
    ("specs", "reason"),
    [
        ([s for s in DEFAULT if s.kind is not StageKind.INBOX], "exactly one inbox"),
        ([*DEFAULT, StageSpec("Second inbox", StageKind.INBOX)], "exactly one inbox"),
        ([s for s in DEFAULT if s.kind is not StageKind.WON], "at least one won"),
        ([s for s in DEFAULT if s.kind is not StageKind.LOST], "at least one lost"),
        ([*DEFAULT, StageSpec("opportunity", StageKind.OPEN)], "unique"),
        ([*DEFAULT, StageSpec("  ", StageKind.OPEN)], "1 to 64"),
        ([*DEFAULT, StageSpec("x" * 65, StageKind.OPEN)], "1 to 64"),
        ([*DEFAULT, StageSpec("Zero", StageKind.OPEN, timedelta(0))], "positive"),
        ([*DEFAULT, StageSpec("Negative", StageKind.OPEN, timedelta(hours=-1))], "positive"),
        ([*DEFAULT, StageSpec("Sure", StageKind.OPEN, probability=101)], "0 to 100"),
        ([*DEFAULT, StageSpec("Chatty", StageKind.OPEN, playbook="x" * 201)], "200"),
    ],
)
def test_a_funnel_deals_could_not_walk_through_is_refused(specs: list[StageSpec], reason: str) -> None:
    with pytest.raises(InvalidInput) as refusal:
        check_stage_specs(specs)
    assert reason in str(refusal.value)


def test_several_won_and_lost_stages_are_allowed() -> None:
    check_stage_specs(
        [*DEFAULT, StageSpec("Won by partner", StageKind.WON), StageSpec("Spam", StageKind.LOST)]
    )


def test_a_stage_is_found_by_its_name_in_any_case_or_by_its_id() -> None:
    pipeline = default_pipeline()
    assert pipeline.find("commercial OFFER").name == "Commercial offer"
    assert pipeline.find(3).name == "Commercial offer"
    assert pipeline.find(" 3 ").name == "Commercial offer"
    with pytest.raises(NotFound):
        pipeline.find("Negotiation")


def test_deals_walk_forward_from_the_inbox_to_won_with_lost_off_the_path() -> None:
    pipeline = default_pipeline()
    assert pipeline.path[0].name == "Unsorted"
    assert pipeline.path[-1].name == "Won"
    assert pipeline.next_after(pipeline.find("Execution")) == pipeline.won
    assert pipeline.next_after(pipeline.won) is None
    assert pipeline.previous_before(pipeline.inbox) is None
    assert pipeline.next_after(pipeline.lost) is None
    assert pipeline.ordinal(pipeline.find("Commercial offer")) == (3, 7)
    assert pipeline.ordinal(pipeline.lost) == (0, 7)


def test_the_funnel_as_a_document_reads_back_as_the_same_funnel() -> None:
    pipeline = default_pipeline()
    spec = funnel_spec_from_document(funnel_document(pipeline, ["Price", "Other"]))
    assert spec.name == "Sales"
    assert spec.lost_reasons == ["Price", "Other"]
    assert [replace(s, id=None) for s in spec.stages] == DEFAULT
    assert [s.id for s in spec.stages] == [s.id for s in pipeline.stages]


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"pipeline": "Sales"}, "funnel file"),
        ({"stages": [{"kind": "open"}]}, "stage #1"),
        ({"stages": [{"name": "A", "kind": "maybe"}]}, "kind of stage 'A'"),
        ({"stages": [{"name": "A", "probability": "high"}]}, "probability of stage 'A'"),
        ({"stages": [{"name": "A", "id": "seven"}]}, "id of stage 'A'"),
        ({"stages": [{"name": "A", "follow_up": "-2h"}]}, "duration"),
        ({"stages": [{"name": "Inbox", "kind": "inbox"}], "move_deals": ["A"]}, "move_deals"),
        ({"stages": [{"name": "Inbox", "kind": "inbox"}], "lost_reasons": []}, "lost_reasons"),
    ],
)
def test_a_malformed_funnel_document_is_refused_naming_what_is_wrong(document: object, field: str) -> None:
    with pytest.raises(InvalidInput) as refusal:
        funnel_spec_from_document(document)
    assert refusal.value.field == field
