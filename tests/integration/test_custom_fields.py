"""The team's own fields on the real database: applied all or nothing, set and cleared as editing the deal,
required from a stage, and the open funnel grouped by a choice (figures computed by hand below)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_core.domain.errors import DealNotFound, InvalidInput, NotAllowed, Why
from crm_core.domain.fields import FieldsRequired
from crm_core.domain.history import EventKind
from crm_core.services import Crm
from crm_core.services.fields import fields_spec_from_document
from tests.integration.support import Team, stored

DOCUMENT = {
    "stages": [{"name": n} for n in ("Unsorted", "Opportunity", "Commercial offer", "Won", "Lost")],
    "fields": [
        {
            "key": "city",
            "type": "choice",
            "names": {"en": "City", "ru": "Город", "ar": "المدينة"},
            "choices": ["Moscow", "Dubai", "London"],
            "required_from": "Commercial offer",
        },
        {"key": "products", "type": "multi_choice", "choices": ["PBX", "Phones"]},
        {"key": "seats", "type": "number"},
        {"key": "vip", "entity": "contact", "type": "bool"},
    ],
}


async def with_fields(crm: Crm) -> None:
    spec = fields_spec_from_document(DOCUMENT)
    assert spec is not None
    await crm.fields.apply(spec)


async def test_fields_apply_all_or_nothing_and_read_back_as_the_document(crm: Crm, team: Team) -> None:
    await with_fields(crm)
    shown = await crm.fields.document()
    assert [f["key"] for f in shown] == ["city", "products", "seats", "vip"]
    again = fields_spec_from_document({"stages": DOCUMENT["stages"], "fields": shown})
    assert again is not None
    await crm.fields.apply(again)
    assert await crm.fields.document() == shown
    with pytest.raises(NotAllowed):
        await crm.fields.apply(again, actor=team.alice)


async def test_a_field_is_set_and_cleared_with_a_line_of_history(crm: Crm, team: Team) -> None:
    await with_fields(crm)
    deal = await crm.deals.create(actor=team.alice, title="ACME", fields={"city": "moscow"})
    await crm.deals.set_field(deal_id=deal.id, key="City", value="Dubai", actor=team.alice)
    await crm.deals.set_fields(
        deal_id=deal.id, changes={"products": "phones,pbx", "vip": "да"}, actor=team.alice
    )
    assert await crm.deals.field_values(deal_id=deal.id, actor=team.alice) == {
        "city": ("Dubai",),
        "products": ("PBX", "Phones"),
        "vip": ("yes",),
    }
    await crm.deals.set_field(deal_id=deal.id, key="city", value=None, actor=team.alice)
    details = await crm.deals.details(deal_id=deal.id, actor=team.alice)
    assert [(d.key, v) for d, v in details.fields] == [("products", ("PBX", "Phones")), ("vip", ("yes",))]
    history = await crm.deals.history(deal_id=deal.id, actor=team.alice)
    edits = [
        (e.data["field"], e.data.get("old"), e.data.get("new")) for e in history if e.kind is EventKind.EDITED
    ]
    assert edits == [
        ("city", None, "Moscow"),
        ("city", "Moscow", "Dubai"),
        ("products", None, "PBX, Phones"),
        ("vip", None, "yes"),
        ("city", "Dubai", None),
    ]


async def test_a_wrong_value_or_someone_elses_deal_changes_nothing(crm: Crm, team: Team) -> None:
    await with_fields(crm)
    deal = await crm.deals.create(actor=team.alice, title="ACME", fields={"seats": "5"})
    before = await stored(crm, deal.id)
    with pytest.raises(InvalidInput) as caught:
        await crm.deals.set_fields(
            deal_id=deal.id, changes={"city": "Dubai", "seats": "lots"}, actor=team.alice
        )
    assert (caught.value.field, caught.value.reason) == ("seats", Why.NOT_A_NUMBER)
    with pytest.raises(DealNotFound):
        await crm.deals.set_field(deal_id=deal.id, key="city", value="Dubai", actor=team.bob)
    with pytest.raises(InvalidInput):
        await crm.deals.set_field(deal_id=deal.id, key="colour", value="red", actor=team.alice)
    assert await stored(crm, deal.id) == before
    assert await crm.deals.field_values(deal_id=deal.id, actor=team.boss) == {"seats": ("5",)}


async def test_a_move_past_the_required_stage_is_refused_until_the_field_is_set(crm: Crm, team: Team) -> None:
    await with_fields(crm)
    deal = await crm.deals.create(actor=team.alice, title="ACME", stage="Opportunity")
    before = await stored(crm, deal.id)
    for attempt in (
        crm.deals.move_next(deal_id=deal.id, actor=team.alice),
        crm.deals.mark_won(deal_id=deal.id, actor=team.alice),
        crm.deals.move(deal_id=deal.id, to_stage="Won", actor=team.alice),
    ):
        with pytest.raises(FieldsRequired) as caught:
            await attempt
        assert caught.value.keys == ["city"]
    assert await stored(crm, deal.id) == before
    await crm.deals.set_field(deal_id=deal.id, key="city", value="London", actor=team.alice)
    moved = await crm.deals.move_next(deal_id=deal.id, actor=team.alice)
    assert moved.stage.name == "Commercial offer"


async def test_removing_a_field_with_values_needs_drop_fields(crm: Crm, team: Team) -> None:
    await with_fields(crm)
    deal = await crm.deals.create(actor=team.alice, title="ACME", fields={"vip": "yes", "city": "Dubai"})
    fewer = {"stages": DOCUMENT["stages"], "fields": DOCUMENT["fields"][:1]}
    spec = fields_spec_from_document(fewer)
    assert spec is not None
    with pytest.raises(InvalidInput, match="drop_fields"):
        await crm.fields.apply(spec)
    assert len(await crm.fields.definitions()) == 4
    narrower = dict(DOCUMENT["fields"][0]) | {"choices": ["Moscow", "London"]}  # Dubai is in use
    spec = fields_spec_from_document(
        {"stages": DOCUMENT["stages"], "fields": [narrower, *DOCUMENT["fields"][1:]]}
    )
    assert spec is not None
    with pytest.raises(InvalidInput, match="'city'"):
        await crm.fields.apply(spec)
    spec = fields_spec_from_document(fewer | {"drop_fields": ["vip"]})
    assert spec is not None
    await crm.fields.apply(spec)
    assert await crm.deals.field_values(deal_id=deal.id, actor=team.alice) == {"city": ("Dubai",)}


async def test_the_open_funnel_groups_by_a_choice_as_computed_by_hand(crm: Crm, team: Team) -> None:
    await with_fields(crm)
    rows = [  # (seller, stage, amount, city, products)
        (team.alice, "Opportunity", "100", "Moscow", "PBX"),
        (team.alice, "Opportunity", "40", "Moscow", "PBX,Phones"),
        (team.bob, "Opportunity", "25", "Dubai", None),
        (team.bob, "Commercial offer", "60", "Dubai", "Phones"),
        (team.alice, "Unsorted", "5", None, None),
    ]
    for seller, stage, amount, city, products in rows:
        fields = {k: v for k, v in (("city", city), ("products", products)) if v}
        await crm.deals.create(actor=seller, title="D", stage=stage, amount=amount, fields=fields)
    won = await crm.deals.create(actor=team.alice, title="W", amount="999", fields={"city": "London"})
    await crm.deals.mark_won(deal_id=won.id, actor=team.alice)  # closed: not in the open funnel

    grouped = await crm.field_reports.funnel_by(actor=team.boss, key="city")
    cells = {(r.stage.name, r.value): (r.count, r.amount) for r in grouped.rows if r.count}
    assert cells == {
        ("Unsorted", None): (1, Decimal("5.00")),
        ("Opportunity", "Moscow"): (2, Decimal("140.00")),
        ("Opportunity", "Dubai"): (1, Decimal("25.00")),
        ("Commercial offer", "Dubai"): (1, Decimal("60.00")),
    }
    assert grouped.total("Moscow") == (2, Decimal("140.00"))
    assert grouped.total("Dubai") == (2, Decimal("85.00"))
    assert grouped.total("London") == (0, Decimal("0.00"))
    assert grouped.total(None) == (1, Decimal("5.00"))

    by_product = await crm.field_reports.funnel_by(actor=team.boss, key="products")
    assert by_product.total("PBX") == (2, Decimal("140.00"))  # a deal counts under each of its choices
    assert by_product.total("Phones") == (2, Decimal("100.00"))
    assert by_product.total(None) == (2, Decimal("30.00"))

    alice = await crm.field_reports.funnel_by(actor=team.alice, key="city")
    assert alice.total("Dubai") == (0, Decimal("0.00"))
    assert alice.total("Moscow") == (2, Decimal("140.00"))
    with pytest.raises(InvalidInput):
        await crm.field_reports.funnel_by(actor=team.boss, key="seats")
