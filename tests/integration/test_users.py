"""The team: adding people, their settings, and deactivating those who leave."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_core.domain.errors import Conflict, InvalidInput, NotFound
from crm_core.domain.notifications import NoteKind
from crm_core.domain.users import Role
from crm_core.ports import FixedClock
from crm_core.services import Crm
from tests.integration.support import Team, outbox


async def test_a_seller_is_added_with_extensions_time_zone_and_language(crm: Crm) -> None:
    added = await crm.users.add(
        telegram_id=5001,
        name="  Анна   Петрова ",
        role=Role.SELLER,
        extensions=("101", "102", "101"),
        timezone="Europe/Moscow",
        locale="ru",
    )
    found = await crm.users.identify(5001)
    assert found == added
    assert (found.name, found.role, found.extensions, found.timezone, found.locale, found.active) == (
        "Анна Петрова",
        Role.SELLER,
        ("101", "102"),
        "Europe/Moscow",
        "ru",
        True,
    )


async def test_names_in_any_script_are_kept(crm: Crm) -> None:
    for telegram_id, name in ((1, "أحمد المصري"), (2, "Zoë 🚀"), (3, "Ёжик")):
        await crm.users.add(telegram_id=telegram_id, name=name, role=Role.SELLER)
        assert (await crm.users.identify(telegram_id)).name == name


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"telegram_id": 201}, Conflict),  # Alice's
        ({"extensions": ("102",)}, Conflict),  # Bob's
        ({"timezone": "Mars/Olympus"}, InvalidInput),
        ({"locale": "fr"}, InvalidInput),
        ({"name": "  "}, InvalidInput),
        ({"name": "x" * 101}, InvalidInput),
        ({"extensions": ("1 0 1",)}, InvalidInput),
        ({"telegram_id": 0}, InvalidInput),
        ({"telegram_id": -5}, InvalidInput),
    ],
)
async def test_a_person_with_bad_or_taken_details_is_refused_and_nothing_is_added(
    crm: Crm, team: Team, fields: dict[str, object], error: type[Exception]
) -> None:
    before = await crm.users.list()
    request: dict[str, object] = {"telegram_id": 5001, "name": "New", "role": Role.SELLER, **fields}
    with pytest.raises(error):
        await crm.users.add(**request)  # type: ignore[arg-type]
    assert await crm.users.list() == before


async def test_the_team_is_listed_bosses_first_then_by_name(crm: Crm, team: Team) -> None:
    assert [u.name for u in await crm.users.list()] == ["Boss", "Alice", "Bob", "Carol"]
    assert [u.name for u in await crm.users.list(role=Role.SELLER)] == ["Alice", "Bob", "Carol"]


async def test_someone_who_leaves_hands_their_open_deals_and_tasks_to_a_colleague(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    open_deal = await crm.deals.create(actor=team.carol, title="Open")
    task = await crm.tasks.add(
        deal_id=open_deal.id, due_at=clock.now() + timedelta(days=1), text="Call", actor=team.carol
    )
    won = await crm.deals.create(actor=team.carol, title="Won")
    await crm.deals.mark_won(deal_id=won.id, actor=team.carol)
    gone, moved = await crm.users.deactivate(
        telegram_id=team.carol.telegram_id, hand_over_to=team.bob.telegram_id, actor=team.boss
    )
    assert (gone.active, moved) == (False, 1)
    assert (await crm.deals.get(deal_id=open_deal.id, actor=team.bob)).owner_id == team.bob.id
    assert (await crm.deals.get(deal_id=won.id, actor=team.boss)).owner_id == team.carol.id  # history stays
    assert [t.id for t in await crm.tasks.open_tasks(actor=team.bob)] == [task.id]
    assert [(n["recipient_id"], n["kind"], n["payload"]["count"]) for n in await outbox(crm)] == [
        (team.bob.id, NoteKind.DEAL_ASSIGNED, 1)
    ]
    with pytest.raises(NotFound):
        await crm.users.identify(team.carol.telegram_id)


async def test_without_a_colleague_the_open_deals_of_someone_who_leaves_belong_to_nobody(
    crm: Crm, team: Team
) -> None:
    deal = await crm.deals.create(actor=team.carol, title="Open", stage="Opportunity")
    _, moved = await crm.users.deactivate(telegram_id=team.carol.telegram_id)
    assert moved == 1
    assert (await crm.deals.get(deal_id=deal.id, actor=team.boss)).owner is None


@pytest.mark.parametrize("heir", [999, 203])
async def test_deals_cannot_be_handed_to_someone_unknown_or_to_the_one_leaving(
    crm: Crm, team: Team, heir: int
) -> None:
    deal = await crm.deals.create(actor=team.carol, title="Open")
    with pytest.raises(InvalidInput):
        await crm.users.deactivate(telegram_id=team.carol.telegram_id, hand_over_to=heir)
    assert (await crm.users.identify(team.carol.telegram_id)).active
    assert (await crm.deals.get(deal_id=deal.id, actor=team.carol)).owner_id == team.carol.id


async def test_making_sure_of_a_boss_twice_is_harmless_and_promotes_a_seller(crm: Crm, team: Team) -> None:
    first = await crm.users.ensure_boss(telegram_id=9000, name="Owner")
    again = await crm.users.ensure_boss(telegram_id=9000, name="Owner")
    assert first.id == again.id
    assert len([u for u in await crm.users.list() if u.telegram_id == 9000]) == 1
    await crm.users.deactivate(telegram_id=team.alice.telegram_id)
    promoted = await crm.users.ensure_boss(telegram_id=team.alice.telegram_id, name="ignored")
    assert (promoted.role, promoted.active, promoted.name) == (Role.BOSS, True, "Alice")


async def test_a_user_picks_a_language_and_then_the_telegram_app_no_longer_changes_it(
    crm: Crm, team: Team
) -> None:
    followed = await crm.users.adopt_locale(team.alice, "ru-RU")
    assert (await crm.users.identify(201)).locale == "ru" == followed.locale
    await crm.users.update_preferences(actor=team.alice, locale="ar", timezone="Asia/Dubai")
    await crm.users.adopt_locale(await crm.users.identify(201), "en")
    assert ((await crm.users.identify(201)).locale, (await crm.users.identify(201)).timezone) == (
        "ar",
        "Asia/Dubai",
    )
    with pytest.raises(InvalidInput):
        await crm.users.update_preferences(actor=team.alice, timezone="Nowhere/City")


async def test_extensions_can_be_changed_but_not_to_someone_elses(crm: Crm, team: Team) -> None:
    changed = await crm.users.set_extensions(telegram_id=203, extensions=("301", "302"), actor=team.boss)
    assert changed.extensions == ("301", "302")
    with pytest.raises(Conflict):
        await crm.users.set_extensions(telegram_id=203, extensions=("101",))
    assert (await crm.users.identify(203)).extensions == ("301", "302")


@pytest.mark.parametrize("telegram_id", [2**63, 10**30, -(2**63) - 1])
async def test_a_telegram_id_nobody_could_have_is_just_not_found(
    crm: Crm, team: Team, telegram_id: int
) -> None:
    with pytest.raises(NotFound):
        await crm.users.identify(telegram_id)
    with pytest.raises(NotFound):
        await crm.deals.create(actor=team.boss, title="Order", owner_telegram_id=telegram_id)
    with pytest.raises(NotFound):
        await crm.reports.funnel(actor=team.boss, seller_telegram_id=telegram_id)
    with pytest.raises(NotFound):
        await crm.users.deactivate(telegram_id=telegram_id)
