from crm_core.services import Crm


async def test_a_fresh_database_has_the_default_funnel(crm: Crm) -> None:
    pipeline = await crm.pipelines.default()
    assert [s.name for s in pipeline.stages][:2] == ["Unsorted", "Opportunity"]
