"""Configuring the funnel from a document (what `kanbot pipeline show` prints and `apply` reads)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from crm_core.domain.errors import InvalidInput
from crm_core.domain.history import EventKind
from crm_core.services import Crm
from crm_core.services.funnel import funnel_spec_from_document
from tests.integration.support import Team, stored


async def apply(crm: Crm, team: Team, document: dict[str, Any]) -> list[str]:
    pipeline = await crm.pipelines.apply(funnel_spec_from_document(document), actor=team.boss)
    return [s.name for s in pipeline.stages]


def stage(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in document["stages"] if s["name"] == name)


def without(document: dict[str, Any], *names: str) -> dict[str, Any]:
    return document | {"stages": [s for s in document["stages"] if s["name"] not in names]}


async def test_the_funnel_shown_applies_back_unchanged(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order", stage="Commercial offer")
    before, kept = await crm.pipelines.document(), await stored(crm, deal.id)
    await apply(crm, team, before)
    assert await crm.pipelines.document() == before
    assert await stored(crm, deal.id) == kept
    assert before["stages"][0] == {
        "id": before["stages"][0]["id"],
        "name": "Unsorted",
        "kind": "inbox",
        "follow_up": "2h",
        "playbook": "Call the customer back and qualify the request",
        "probability": 5,
    }
    assert before["lost_reasons"] == [
        "Price",
        "Chose a competitor",
        "No budget",
        "No response",
        "Not a fit",
        "Other",
    ]


async def test_seeding_the_default_funnel_twice_is_harmless(crm: Crm) -> None:
    first = await crm.pipelines.default()
    again = await crm.pipelines.seed_defaults()
    assert again == first
    assert len(await crm.pipelines.lost_reasons()) == 6


async def test_a_stage_renamed_by_its_id_keeps_its_deals(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order", stage="Opportunity")
    document = await crm.pipelines.document()
    opportunity_id = stage(document, "Opportunity")["id"]
    stage(document, "Opportunity")["name"] = "Qualified"
    assert (await apply(crm, team, document))[1] == "Qualified"
    again = await crm.deals.get(deal_id=deal.id, actor=team.alice)
    assert (again.stage.id, again.stage.name, again.version) == (opportunity_id, "Qualified", 1)


async def test_two_stages_can_swap_names(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order", stage="Opportunity")
    document = await crm.pipelines.document()
    first, second = stage(document, "Opportunity"), stage(document, "Commercial offer")
    first["name"], second["name"] = "Commercial offer", "Opportunity"
    assert (await apply(crm, team, document))[1:3] == ["Commercial offer", "Opportunity"]
    assert (await crm.deals.get(deal_id=deal.id, actor=team.alice)).stage.name == "Commercial offer"


async def test_the_longest_stage_name_can_be_given_and_the_funnel_still_applied_afterwards(
    crm: Crm, team: Team
) -> None:
    document = await crm.pipelines.document()
    stage(document, "Opportunity")["name"] = "Q" * 64
    await apply(crm, team, document)
    document = await crm.pipelines.document()
    stage(document, "Commercial offer")["name"] = "Offer"
    assert (await apply(crm, team, document))[1:3] == ["Q" * 64, "Offer"]


async def test_a_new_stage_can_be_added_and_stages_reordered(crm: Crm, team: Team) -> None:
    document = await crm.pipelines.document()
    stages = document["stages"]
    stages.insert(2, {"name": "Демо / عرض", "kind": "open", "follow_up": "1d12h", "probability": 25})
    stages[4], stages[5] = stages[5], stages[4]
    names = await apply(crm, team, document)
    assert names == [
        "Unsorted",
        "Opportunity",
        "Демо / عرض",
        "Commercial offer",
        "Signing & payment",
        "Document approval",
        "Execution",
        "Won",
        "Lost",
    ]
    shown = await crm.pipelines.document()
    assert stage(shown, "Демо / عرض")["follow_up"] == "1d12h"
    assert [s["name"] for s in shown["stages"]] == names


async def test_a_stage_holding_deals_cannot_disappear_unless_the_file_says_where_they_go(
    crm: Crm, team: Team
) -> None:
    first = await crm.deals.create(actor=team.alice, title="One", stage="Document approval")
    second = await crm.deals.create(actor=team.bob, title="Two", stage="Document approval")
    before, kept = await crm.pipelines.document(), await stored(crm, first.id)
    with pytest.raises(InvalidInput) as refusal:
        await apply(crm, team, without(before, "Document approval"))
    assert "'Document approval'" in str(refusal.value)
    assert "2 deal(s)" in str(refusal.value)
    assert await crm.pipelines.document() == before
    assert await stored(crm, first.id) == kept
    moved = without(before, "Document approval") | {"move_deals": {"document approval": "Commercial offer"}}
    assert "Document approval" not in await apply(crm, team, moved)
    for deal in (first, second):
        again = await crm.deals.get(deal_id=deal.id, actor=team.boss)
        assert again.stage.name == "Commercial offer"
        last = (await crm.deals.history(deal_id=deal.id, actor=team.boss))[-1]
        assert (last.kind, last.actor_name) == (EventKind.MOVED, "Boss")


async def test_deals_of_a_removed_stage_cannot_go_to_a_stage_missing_from_the_file(
    crm: Crm, team: Team
) -> None:
    await crm.deals.create(actor=team.alice, title="One", stage="Execution")
    before = await crm.pipelines.document()
    with pytest.raises(InvalidInput):
        await apply(crm, team, without(before, "Execution") | {"move_deals": {"Execution": "Delivery"}})
    assert await crm.pipelines.document() == before


async def test_an_empty_stage_can_be_removed_without_saying_anything(crm: Crm, team: Team) -> None:
    document = await crm.pipelines.document()
    assert "Signing & payment" not in await apply(crm, team, without(document, "Signing & payment"))


async def test_closed_deals_of_a_removed_closed_stage_stay_closed(crm: Crm, team: Team) -> None:
    document = await crm.pipelines.document()
    document["stages"].append({"name": "Spam", "kind": "lost"})
    await apply(crm, team, document)
    deal = await crm.deals.create(actor=team.alice, title="Spam call")
    await crm.deals.move(deal_id=deal.id, to_stage="Spam", lost_reason="Robot", actor=team.alice)
    document = await crm.pipelines.document()
    await apply(crm, team, without(document, "Spam") | {"move_deals": {"Spam": "Lost"}})
    again = await crm.deals.get(deal_id=deal.id, actor=team.boss)
    assert (again.stage.name, again.lost_reason, again.is_closed) == ("Lost", "Robot", True)


async def test_a_stage_holding_deals_cannot_change_between_open_and_closed(crm: Crm, team: Team) -> None:
    await crm.deals.create(actor=team.alice, title="One", stage="Execution")
    before = await crm.pipelines.document()
    changed = await crm.pipelines.document()
    stage(changed, "Execution")["kind"] = "won"
    with pytest.raises(InvalidInput) as refusal:
        await apply(crm, team, changed)
    assert "'Execution' holds 1 deal(s)" in str(refusal.value)
    assert await crm.pipelines.document() == before
    empty = await crm.pipelines.document()
    stage(empty, "Signing & payment")["kind"] = "won"  # nobody is there: allowed
    await apply(crm, team, empty)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["stages"].append({"name": "Second inbox", "kind": "inbox"}),
        lambda d: d["stages"].append({"name": "unsorted", "kind": "open"}),
        lambda d: d.update(stages=[s for s in d["stages"] if s["kind"] != "won"]),
        lambda d: d.update(stages=[s for s in d["stages"] if s["kind"] != "lost"]),
        lambda d: d["stages"][1].update(follow_up="0h"),
        lambda d: d["stages"][1].update(id=9999),
        lambda d: d["stages"][2].update(id=d["stages"][1]["id"]),
    ],
    ids=[
        "two inboxes",
        "duplicate name",
        "no won",
        "no lost",
        "zero follow-up",
        "unknown id",
        "same id twice",
    ],
)
async def test_an_invalid_funnel_is_refused_and_nothing_changes(crm: Crm, team: Team, change: Any) -> None:
    before = await crm.pipelines.document()
    document = await crm.pipelines.document()
    change(document)
    with pytest.raises(InvalidInput):
        await apply(crm, team, document)
    assert await crm.pipelines.document() == before


async def test_the_lost_reasons_are_replaced_by_the_files(crm: Crm, team: Team) -> None:
    document = await crm.pipelines.document()
    await apply(crm, team, document | {"lost_reasons": ["Дорого", "غالي", "Price"]})
    assert await crm.pipelines.lost_reasons() == ["Дорого", "غالي", "Price"]


async def test_a_lost_reason_longer_than_a_reason_may_be_is_refused_naming_it(crm: Crm, team: Team) -> None:
    before = await crm.pipelines.document()
    with pytest.raises(InvalidInput) as refusal:
        await apply(crm, team, before | {"lost_reasons": ["Price", "x" * 101]})
    assert refusal.value.field == "lost_reasons"
    assert await crm.pipelines.document() == before
    await apply(crm, team, before | {"lost_reasons": ["Price", "x" * 100]})


async def test_a_closed_deal_reopens_where_the_deals_of_its_removed_stage_went(crm: Crm, team: Team) -> None:
    lost = await crm.deals.create(actor=team.alice, title="Lost at approval", stage="Document approval")
    await crm.deals.mark_lost(deal_id=lost.id, reason="Price", actor=team.alice)
    won = await crm.deals.create(actor=team.alice, title="Won at signing", stage="Signing & payment")
    await crm.deals.mark_won(deal_id=won.id, actor=team.alice)
    before = await crm.pipelines.document()
    moved = without(before, "Document approval", "Signing & payment") | {
        "move_deals": {"Document approval": "Commercial offer"}
    }
    await apply(crm, team, moved)
    reopened = await crm.deals.reopen(deal_id=lost.id, actor=team.alice)
    assert reopened.stage.name == "Commercial offer"  # where the admin sent that stage's deals
    reopened = await crm.deals.reopen(deal_id=won.id, actor=team.alice)
    assert reopened.stage.name == "Unsorted"  # its stage was empty and removed: the inbox


async def test_deals_a_removed_stage_sends_to_lost_have_their_tasks_cancelled(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order", stage="Document approval")
    await crm.tasks.add(
        deal_id=deal.id, due_at=crm.clock.now() + timedelta(days=1), text="Call", actor=team.alice
    )
    await apply(
        crm,
        team,
        without(await crm.pipelines.document(), "Document approval")
        | {"move_deals": {"Document approval": "Lost"}},
    )
    assert (await crm.deals.get(deal_id=deal.id, actor=team.alice)).stage.name == "Lost"
    assert await crm.tasks.open_tasks(actor=team.alice) == []
    kinds = [e.kind for e in await crm.deals.history(deal_id=deal.id, actor=team.alice)]
    assert kinds[-2:] == [EventKind.LOST, EventKind.TASK_CANCELLED]
