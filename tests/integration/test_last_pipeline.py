"""The funnel a person last worked in: kept per person, beside (and apart from) their other settings."""

from __future__ import annotations

from crm_core.services import Crm
from tests.integration.support import Team
from tests.support.funnels import two_funnels


async def test_the_funnel_last_used_is_kept_per_person(crm: Crm, team: Team) -> None:
    sales, renewals = await two_funnels(crm)
    assert (await crm.followups.preferences(actor=team.alice)).last_pipeline_id is None
    await crm.followups.remember_pipeline(actor=team.alice, pipeline_id=renewals.id)
    await crm.followups.remember_pipeline(actor=team.bob, pipeline_id=sales.id)
    assert (await crm.followups.preferences(actor=team.alice)).last_pipeline_id == renewals.id
    assert (await crm.followups.preferences(actor=team.bob)).last_pipeline_id == sales.id


async def test_other_settings_and_the_funnel_last_used_leave_each_other_alone(crm: Crm, team: Team) -> None:
    _, renewals = await two_funnels(crm)
    await crm.followups.set_preferences(actor=team.alice, morning_time="08:30", morning_plan=False)
    await crm.followups.remember_pipeline(actor=team.alice, pipeline_id=renewals.id)
    prefs = await crm.followups.preferences(actor=team.alice)
    assert (prefs.morning_time, prefs.morning_plan_enabled) == ("08:30", False)
    await crm.followups.set_preferences(actor=team.alice, morning_time="09:15")
    prefs = await crm.followups.preferences(actor=team.alice)
    assert (prefs.morning_time, prefs.last_pipeline_id) == ("09:15", renewals.id)
