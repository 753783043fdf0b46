"""Several pipelines: finding them, creating deals in them, and moving a deal from one to another."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_core.adapters.database import Database
from crm_core.config import CrmConfig
from crm_core.domain.errors import DealNotFound, InvalidInput, NotFound, NotTaken, StaleVersion
from crm_core.domain.funnel import Pipeline, StageKind, StageSpec
from crm_core.domain.history import EventKind
from crm_core.services import Crm
from crm_core.services.funnel import funnels_spec_from_document
from tests.integration.support import Team, stored

RENEWALS = [
    StageSpec("New renewal", StageKind.INBOX, timedelta(hours=4)),
    StageSpec("Quote", StageKind.OPEN, timedelta(days=2)),
    StageSpec("Renewed", StageKind.WON),
    StageSpec("Churned", StageKind.LOST),
]


async def add_renewals(crm: Crm) -> Pipeline:
    async with crm.db.uow() as uow:
        pipeline = await uow.pipelines.create("Renewals", RENEWALS, is_default=False, position=2)
        await uow.commit()
    return pipeline


async def test_pipelines_are_listed_default_first_and_found_by_id_or_name(crm: Crm) -> None:
    renewals = await add_renewals(crm)
    listed = await crm.pipelines.list()
    assert [p.name for p in listed] == ["Sales", "Renewals"]
    assert await crm.pipelines.get("renewals") == renewals
    assert await crm.pipelines.get(renewals.id) == renewals
    assert await crm.pipelines.get(str(renewals.id)) == renewals
    assert (await crm.pipelines.get()).name == "Sales"
    with pytest.raises(NotFound):
        await crm.pipelines.get("Support")
    with pytest.raises(NotFound):  # digits too long for an id: looked for as a name, not as an integer
        await crm.pipelines.get("9" * 30)
    with pytest.raises(InvalidInput):
        await crm.pipelines.get("  ")


async def test_a_deal_is_created_in_the_pipeline_named(crm: Crm, team: Team) -> None:
    renewals = await add_renewals(crm)
    in_inbox = await crm.deals.create(actor=team.alice, title="ACME renewal", pipeline="Renewals")
    quoted = await crm.deals.create(actor=team.alice, title="Globex", pipeline=renewals.id, stage="Quote")
    assert (in_inbox.pipeline_id, in_inbox.stage.name) == (renewals.id, "New renewal")
    assert (quoted.pipeline_id, quoted.stage.name) == (renewals.id, "Quote")
    with pytest.raises(NotFound):  # a stage of the default pipeline is not one of Renewals'
        await crm.deals.create(actor=team.alice, title="Initech", pipeline="Renewals", stage="Opportunity")
    listed = await crm.deals.list_deals(actor=team.boss, pipeline="Renewals")
    assert {d.title for d in listed} == {"ACME renewal", "Globex"}
    assert await crm.deals.list_deals(actor=team.boss, pipeline="Sales") == []


async def test_changing_pipeline_lands_at_the_same_place_and_is_recorded(crm: Crm, team: Team) -> None:
    renewals = await add_renewals(crm)
    deal = await crm.deals.create(actor=team.alice, title="ACME", stage="Opportunity")
    moved = await crm.deals.change_pipeline(
        deal_id=deal.id, pipeline="Renewals", actor=team.alice, expected_version=deal.version
    )
    # Opportunity is second on the Sales path; Quote is second on the Renewals path.
    assert (moved.pipeline_id, moved.stage.name) == (renewals.id, "Quote")
    history = await crm.deals.history(deal_id=deal.id, actor=team.alice)
    assert history[-1].kind is EventKind.PIPELINE_CHANGED
    assert history[-1].data["from_pipeline"] == "Sales"
    assert history[-1].data["to_pipeline"] == "Renewals"
    assert history[-1].from_stage_id == deal.stage.id
    assert history[-1].to_stage_id == moved.stage.id
    # The follow-up is the new stage's: two days after the change, not Opportunity's three.
    assert moved.follow_up_due_at == crm.clock.now() + timedelta(days=2)
    back = await crm.deals.change_pipeline(
        deal_id=deal.id, pipeline="Sales", actor=team.alice, stage="Unsorted"
    )
    assert back.stage.name == "Unsorted"


async def test_a_stage_past_the_new_pipelines_path_lands_in_its_inbox(crm: Crm, team: Team) -> None:
    await add_renewals(crm)
    deal = await crm.deals.create(actor=team.alice, title="ACME", stage="Execution")
    moved = await crm.deals.change_pipeline(deal_id=deal.id, pipeline="Renewals", actor=team.alice)
    assert moved.stage.name == "New renewal"


async def test_the_board_counts_follow_a_deal_to_its_new_pipeline(crm: Crm, team: Team) -> None:
    await add_renewals(crm)
    deal = await crm.deals.create(actor=team.alice, title="ACME", amount="1000", stage="Opportunity")
    await crm.deals.change_pipeline(deal_id=deal.id, pipeline="Renewals", actor=team.alice, stage="Quote")
    sales = await crm.deals.board(actor=team.boss)
    renewals = await crm.deals.board(actor=team.boss, pipeline="Renewals")
    assert (sales.open_count, sales.open_amount) == (0, 0)
    assert renewals.open_count == 1
    assert str(renewals.open_amount) == "1000.00"
    assert {c.stage.name: c.count for c in renewals.columns}["Quote"] == 1


async def test_a_pipeline_change_is_refused_when_it_cannot_be(crm: Crm, team: Team) -> None:
    await add_renewals(crm)
    deal = await crm.deals.create(actor=team.alice, title="ACME", stage="Opportunity")
    before = await stored(crm, deal.id)
    with pytest.raises(StaleVersion):
        await crm.deals.change_pipeline(
            deal_id=deal.id, pipeline="Renewals", actor=team.alice, expected_version=deal.version + 1
        )
    with pytest.raises(DealNotFound):  # a seller changes only their own deals
        await crm.deals.change_pipeline(deal_id=deal.id, pipeline="Renewals", actor=team.bob)
    with pytest.raises(InvalidInput) as same:
        await crm.deals.change_pipeline(deal_id=deal.id, pipeline="Sales", actor=team.alice)
    assert same.value.field == "pipeline"
    with pytest.raises(InvalidInput) as closed_stage:
        await crm.deals.change_pipeline(
            deal_id=deal.id, pipeline="Renewals", actor=team.alice, stage="Renewed"
        )
    assert closed_stage.value.field == "stage"
    with pytest.raises(NotFound):
        await crm.deals.change_pipeline(deal_id=deal.id, pipeline="Support", actor=team.alice)
    assert await stored(crm, deal.id) == before
    won = await crm.deals.mark_won(deal_id=deal.id, actor=team.alice)
    with pytest.raises(Exception, match="closed"):
        await crm.deals.change_pipeline(deal_id=won.id, pipeline="Renewals", actor=team.alice)


async def test_a_boss_changes_anyones_deal_and_an_unassigned_one_needs_taking(crm: Crm, team: Team) -> None:
    await add_renewals(crm)
    deal = await crm.deals.create(actor=team.alice, title="ACME")
    moved = await crm.deals.change_pipeline(deal_id=deal.id, pipeline="Renewals", actor=team.boss)
    assert moved.stage.name == "New renewal"
    unassigned = await crm.deals.create(actor=team.boss, title="Walk-in")
    await crm.deals.reassign(deal_id=unassigned.id, owner_telegram_id=None, actor=team.boss)
    with pytest.raises(NotTaken):
        await crm.deals.change_pipeline(deal_id=unassigned.id, pipeline="Renewals", actor=team.bob)


async def test_another_process_changing_the_pipelines_is_seen_through_the_cache(
    crm: Crm, team: Team, database_url: str, crm_config: CrmConfig
) -> None:
    await add_renewals(crm)
    assert (await crm.pipelines.get()).name == "Sales"  # both cached now, the default as such
    assert (await crm.pipelines.get("Renewals")).numbers == ()
    other = Database(database_url)  # a second process over the same database
    try:
        admin = Crm(other, config=crm_config)
        document = await admin.pipelines.document()
        sales, renewals = document["pipelines"]
        del sales["default"]
        renewals |= {"default": True, "numbers": ["+74951230001"]}
        await admin.pipelines.apply(
            funnels_spec_from_document(document | {"pipelines": [renewals, sales]}), actor=team.boss
        )
    finally:
        await other.dispose()
    assert (await crm.pipelines.get()).name == "Renewals"
    assert [p.name for p in await crm.pipelines.list()] == ["Renewals", "Sales"]
    assert (await crm.pipelines.get("Renewals")).numbers == ("+74951230001",)
    assert (await crm.pipelines.for_did("+74951230001")).name == "Renewals"
    assert (await crm.pipelines.for_did("+74951230002")).name == "Renewals"  # the default now
    deal = await crm.deals.create(actor=team.alice, title="Where?")
    assert deal.stage.name == "New renewal"
