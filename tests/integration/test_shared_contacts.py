"""A phone number is one customer's: deals that share a contact say so, and changing it is a choice.

Ivan (+7 495 123-45-67) has two deals, Alice's and Bob's. Creating another with his number says whose it
is; changing his phone or name on one deal asks whether for all his deals or for this deal alone, and
every deal that changes records it in its history.
"""

from __future__ import annotations

import pytest

from crm_core.domain.contacts import ContactScope, ContactShared, DealRef
from crm_core.domain.deals import Deal
from crm_core.domain.errors import InvalidInput
from crm_core.domain.history import EventKind
from crm_core.services import Crm
from tests.integration.support import Team, stored

IVAN = "+74951234567"
NEW = "+74957654321"


async def ivans_two_deals(crm: Crm, team: Team) -> tuple[Deal, Deal]:
    alices = await crm.deals.create(actor=team.alice, title="Ivan: phones", contact_name="Ivan", phone=IVAN)
    bobs = await crm.deals.create(actor=team.bob, title="Ivan: headsets", phone="8 495 123-45-67")
    return alices, bobs


async def test_a_known_number_tells_whose_it_is_with_titles_only_the_actor_may_see(
    crm: Crm, team: Team
) -> None:
    alices, _bobs = await ivans_two_deals(crm, team)
    closed = await crm.deals.create(actor=team.alice, title="Ivan: old order", phone=IVAN)
    await crm.deals.mark_won(deal_id=closed.id, actor=team.alice)
    as_alice = await crm.deals.customer_of(phone="8 (495) 123-45-67", actor=team.alice)
    assert as_alice is not None and as_alice.name == "Ivan"
    assert (as_alice.seen, as_alice.unseen, as_alice.open_count) == (
        [DealRef(alices.id, "Ivan: phones")],
        1,
        2,
    )
    as_boss = await crm.deals.customer_of(phone=IVAN, actor=team.boss)
    assert as_boss is not None and {r.title for r in as_boss.seen} == {"Ivan: phones", "Ivan: headsets"}
    assert as_boss.unseen == 0
    assert await crm.deals.customer_of(phone=NEW, actor=team.alice) is None
    with pytest.raises(InvalidInput):
        await crm.deals.customer_of(phone="12345", actor=team.alice)


@pytest.mark.parametrize(
    ("field", "value"), [("phone", NEW), ("contact", "Ivan Petrov"), ("company", "ACME")]
)
async def test_changing_a_shared_contact_without_saying_for_whom_is_refused_and_changes_nothing(
    crm: Crm, team: Team, field: str, value: str
) -> None:
    alices, bobs = await ivans_two_deals(crm, team)
    before = (await stored(crm, alices.id), await stored(crm, bobs.id))
    with pytest.raises(ContactShared) as refusal:
        await crm.deals.edit(deal_id=alices.id, field=field, value=value, actor=team.alice)
    assert (refusal.value.name, refusal.value.deal_count) == ("Ivan", 2)
    assert "change it for all 2 deals, or give this deal its own contact" in str(refusal.value)
    assert (await stored(crm, alices.id), await stored(crm, bobs.id)) == before


async def test_changing_a_shared_phone_for_all_deals_changes_it_on_each_and_each_history_says_so(
    crm: Crm, team: Team
) -> None:
    alices, bobs = await ivans_two_deals(crm, team)
    await crm.deals.edit(
        deal_id=alices.id, field="phone", value=NEW, actor=team.alice, contact_scope=ContactScope.ALL
    )
    for deal, owner in ((alices, team.alice), (bobs, team.bob)):
        now = await crm.deals.get(deal_id=deal.id, actor=owner)
        assert now.contact is not None and (now.contact.name, now.contact.phone) == ("Ivan", NEW)
        assert now.version == 2
        last = (await crm.deals.history(deal_id=deal.id, actor=owner))[-1]
        assert (last.kind, last.actor_name, last.data["field"]) == (EventKind.EDITED, "Alice", "phone")
        assert (last.data["old"], last.data["new"]) == (IVAN, NEW)
    assert (await crm.deals.history(deal_id=bobs.id, actor=team.bob))[-1].data["via_deal"] == alices.id
    assert (await crm.deals.history(deal_id=alices.id, actor=team.alice))[-1].data["deals"] == 2
    unchanged = await crm.deals.get(deal_id=bobs.id, actor=team.bob)
    assert unchanged.last_activity_at == bobs.last_activity_at  # a change elsewhere is not Bob's activity


async def test_giving_a_deal_its_own_contact_leaves_the_other_deals_customer_alone(
    crm: Crm, team: Team
) -> None:
    alices, bobs = await ivans_two_deals(crm, team)
    await crm.deals.edit(
        deal_id=bobs.id, field="phone", value=NEW, actor=team.bob, contact_scope=ContactScope.THIS
    )
    mine = await crm.deals.get(deal_id=bobs.id, actor=team.bob)
    theirs = await crm.deals.get(deal_id=alices.id, actor=team.alice)
    assert mine.contact is not None and theirs.contact is not None
    assert mine.contact.id != theirs.contact.id
    assert (mine.contact.name, mine.contact.phone) == ("Ivan", NEW)
    assert (theirs.contact.name, theirs.contact.phone, theirs.version) == ("Ivan", IVAN, 1)
    assert [e.kind for e in await crm.deals.history(deal_id=alices.id, actor=team.alice)] == [
        EventKind.CREATED
    ]
    last = (await crm.deals.history(deal_id=bobs.id, actor=team.bob))[-1]
    assert (last.data["field"], last.data["new"], last.data["own_contact"]) == ("phone", NEW, True)


async def test_renaming_a_deals_own_contact_keeps_the_number_with_the_customer_it_belongs_to(
    crm: Crm, team: Team
) -> None:
    _alices, bobs = await ivans_two_deals(crm, team)
    await crm.deals.edit(
        deal_id=bobs.id, field="contact", value="Maria", actor=team.bob, contact_scope=ContactScope.THIS
    )
    mine = await crm.deals.get(deal_id=bobs.id, actor=team.bob)
    assert mine.contact is not None and (mine.contact.name, mine.contact.phone) == ("Maria", None)
    customer = await crm.deals.customer_of(phone=IVAN, actor=team.boss)
    assert customer is not None and customer.name == "Ivan" and customer.open_count == 1


async def test_a_contact_of_one_deal_is_changed_in_place_without_a_question(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Solo", contact_name="Ivan", phone=IVAN)
    await crm.deals.edit(deal_id=deal.id, field="contact", value="Ivan Petrov", actor=team.alice)
    again = await crm.deals.get(deal_id=deal.id, actor=team.alice)
    assert again.contact is not None and deal.contact is not None
    assert (again.contact.id, again.contact.name) == (deal.contact.id, "Ivan Petrov")


async def test_a_shared_contact_cannot_take_another_customers_number_for_all_its_deals(
    crm: Crm, team: Team
) -> None:
    alices, bobs = await ivans_two_deals(crm, team)
    await crm.deals.create(actor=team.carol, title="Petr's", contact_name="Petr", phone=NEW)
    before = (await stored(crm, alices.id), await stored(crm, bobs.id))
    with pytest.raises(InvalidInput, match="another customer's number"):
        await crm.deals.edit(
            deal_id=alices.id, field="phone", value=NEW, actor=team.alice, contact_scope=ContactScope.ALL
        )
    assert (await stored(crm, alices.id), await stored(crm, bobs.id)) == before
    joined = await crm.deals.edit(
        deal_id=alices.id, field="phone", value=NEW, actor=team.alice, contact_scope=ContactScope.THIS
    )
    assert joined.contact is not None and joined.contact.name == "Petr"
    last = (await crm.deals.history(deal_id=alices.id, actor=team.alice))[-1]
    assert last.data["joined"] == "Petr"


async def test_several_fields_are_edited_at_once_or_not_at_all(crm: Crm, team: Team) -> None:
    deal = await crm.deals.create(actor=team.alice, title="Order", amount="100")
    before = await stored(crm, deal.id)
    with pytest.raises(InvalidInput):
        await crm.deals.edit_fields(
            deal_id=deal.id, changes={"title": "Better order", "amount": "abc"}, actor=team.alice
        )
    assert await stored(crm, deal.id) == before
    edited = await crm.deals.edit_fields(
        deal_id=deal.id, changes={"title": "Better order", "amount": "250"}, actor=team.alice
    )
    assert (edited.title, str(edited.amount), edited.version) == ("Better order", "250.00", 2)
