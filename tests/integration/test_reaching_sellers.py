"""Reaching every seller: invitations that give an extension, the boss told who joined, extensions
that ring one active person, and a morning plan at the time the seller chose."""

from __future__ import annotations

import pytest

from crm_core.domain.errors import ExtensionTaken, InvalidInput, NotAllowed
from crm_core.domain.notifications import NoteKind
from crm_core.domain.users import Role
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.integration.followup_support import MINUTE, queued, tick_at
from tests.integration.support import Team
from tests.integration.test_morning_plan import at, plans_of


async def test_an_invitation_gives_its_extension_and_the_boss_who_made_it_is_told_who_joined(
    crm: Crm, team: Team
) -> None:
    invite = await crm.invites.create(role=Role.SELLER, actor=team.boss, extensions=("105",))
    nadia = await crm.invites.redeem(code=invite.code, telegram_id=3001, name="Nadia")
    assert nadia.extensions == ("105",)
    assert (await crm.users.identify(3001)).extensions == ("105",)
    [note] = await queued(crm, NoteKind.INVITE_USED)
    assert note["recipient_id"] == team.boss.id
    assert note["payload"] == {
        "user_id": nadia.id,
        "name": "Nadia",
        "role": "seller",
        "extensions": ["105"],
        "taken": [],
    }


async def test_an_extension_given_away_before_the_invitation_is_used_is_left_out_and_said(
    crm: Crm, team: Team
) -> None:
    invite = await crm.invites.create(role=Role.SELLER, actor=team.boss, extensions=("105", "106"))
    await crm.users.set_extensions(telegram_id=team.carol.telegram_id, extensions=("106",), actor=team.boss)
    nadia = await crm.invites.redeem(code=invite.code, telegram_id=3001, name="Nadia")
    assert nadia.extensions == ("105",)
    [note] = await queued(crm, NoteKind.INVITE_USED)
    assert (note["payload"]["extensions"], note["payload"]["taken"]) == (["105"], ["106"])


async def test_an_invitation_cannot_promise_an_extension_an_active_user_has(crm: Crm, team: Team) -> None:
    with pytest.raises(ExtensionTaken, match=r"Extension 101 already belongs to Alice\."):
        await crm.invites.create(role=Role.SELLER, actor=team.boss, extensions=("101",))
    with pytest.raises(ExtensionTaken):
        await crm.invites.check_extensions(("102",), actor=team.boss)
    assert await crm.invites.pending(actor=team.boss) == []


async def test_editing_is_all_or_nothing_and_the_time_zone_is_read_from_a_city(crm: Crm, team: Team) -> None:
    with pytest.raises(InvalidInput):
        await crm.users.edit(
            telegram_id=team.bob.telegram_id, name="Robert", timezone="Atlantis", actor=team.boss
        )
    assert (await crm.users.identify(team.bob.telegram_id)).name == "Bob"
    bob = await crm.users.edit(
        telegram_id=team.bob.telegram_id, name="Robert", timezone="москва", actor=team.boss
    )
    assert (bob.name, bob.timezone, bob.extensions) == ("Robert", "Europe/Moscow", ("102",))
    with pytest.raises(ExtensionTaken, match="Alice"):
        await crm.users.edit(telegram_id=team.bob.telegram_id, extensions=("101",), actor=team.boss)


async def test_a_seller_cannot_edit_someone_else(crm: Crm, team: Team) -> None:

    with pytest.raises(NotAllowed):
        await crm.users.edit(telegram_id=team.bob.telegram_id, timezone="Europe/Moscow", actor=team.alice)


async def test_the_morning_plan_comes_at_the_time_the_seller_chose(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await crm.followups.set_preferences(actor=team.alice, morning_time="07:30")
    await crm.followups.set_preferences(actor=team.bob, morning_time="10:00")
    for moment in (at(5, 7), at(5, 7) + 30 * MINUTE, at(5, 9), at(5, 10)):
        await tick_at(crm, clock, moment)
    assert await plans_of(crm, team.alice) == [("2026-03-05", at(5, 7) + 30 * MINUTE)]
    assert await plans_of(crm, team.bob) == [("2026-03-05", at(5, 10))]
    assert await plans_of(crm, team.carol) == [("2026-03-05", at(5, 9))]  # when the working day begins
    with pytest.raises(InvalidInput):
        await crm.followups.set_preferences(actor=team.alice, morning_time="25:00")
