"""The funnel is kept per process by the version the schema keeps: another process's change of the
funnel is seen at this one's next unit of work, and the cache never serves a stale stage list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text

from crm_core.adapters.database import Database
from crm_core.config import CrmConfig
from crm_core.services import Crm
from crm_core.services.funnel import funnel_spec_from_document
from tests.integration.support import Team


def renamed(document: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    return document | {"stages": [s | {"name": new} if s["name"] == old else s for s in document["stages"]]}


async def test_another_process_applying_a_funnel_is_seen_at_the_next_press(
    crm: Crm, team: Team, database_url: str, crm_config: CrmConfig
) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order", stage="Opportunity")
    first = await crm.deals.details(deal_id=deal.id, actor=team.alice)  # the funnel is cached now
    assert first.pipeline.stage(deal.stage.id).name == "Opportunity"

    other = Database(database_url)  # a second process over the same database
    try:
        admin = Crm(other, config=crm_config)
        document = await admin.pipelines.document()
        await admin.pipelines.apply(
            funnel_spec_from_document(renamed(document, "Commercial offer", "Proposal")), actor=team.boss
        )
    finally:
        await other.dispose()

    # This process's next move and card read the new funnel: the renamed stage is found by its name.
    moved = await crm.deals.move(deal_id=deal.id, to_stage="Proposal", actor=team.alice)
    assert moved.stage.name == "Proposal"
    card = await crm.deals.details(deal_id=deal.id, actor=team.alice)
    names = [s.name for s in card.pipeline.stages]
    assert "Proposal" in names and "Commercial offer" not in names
    assert names == [s["name"] for s in renamed(document, "Commercial offer", "Proposal")["stages"]]


async def test_a_stage_changed_by_hand_in_sql_is_seen_too(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order", stage="Opportunity")
    before = await crm.deals.details(deal_id=deal.id, actor=team.alice)
    async with crm.db.uow() as uow:  # an operator's UPDATE, not through the funnel service
        conn = uow.connection  # type: ignore[attr-defined]
        await conn.execute(
            text("UPDATE stages SET playbook = 'Send the offer' WHERE id = :id"), {"id": deal.stage.id}
        )
        await uow.commit()
    after = await crm.deals.details(deal_id=deal.id, actor=team.alice)
    assert before.pipeline.stage(deal.stage.id).playbook != "Send the offer"
    assert after.pipeline.stage(deal.stage.id).playbook == "Send the offer"


async def test_a_change_rolled_back_is_never_served(crm: Crm, team: Team) -> None:
    before = await crm.pipelines.default()
    async with crm.db.uow() as uow:  # a funnel change that is not committed
        inbox = before.inbox
        await uow.pipelines.delete_stage(before.stages[-1].id)
        changed = await uow.pipelines.default()
        assert changed is not None and len(changed.stages) == len(before.stages) - 1
        assert changed.inbox == inbox
    assert await crm.pipelines.default() == before
    async with crm.db.uow(write=False) as uow:
        assert await uow.pipelines.default() == before


async def test_a_unit_of_work_with_the_funnel_cached_reads_only_its_version(crm: Crm, db: Database) -> None:
    await crm.pipelines.default()  # cached
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        pipeline = await crm.pipelines.default()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    assert pipeline.stages
    reads = [s for s in sent if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "funnel_version" in reads[0] and "stages" not in reads[0]
