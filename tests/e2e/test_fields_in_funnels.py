"""The team's own fields with two funnels: a deal made from /new in either funnel is edited from its card,
and a move past the stage that requires a field asks for it first — each funnel by its own stages."""

from __future__ import annotations

from crm_core.domain.deals import Deal
from crm_core.services import Crm
from crm_core.services.fields import fields_spec_from_document
from tests.e2e.harness import ALI, EmulatedChat, Msg, visible
from tests.support.funnels import two_funnels

FIELDS = {
    "fields": [
        {
            "key": "city",
            "type": "choice",
            "names": {"en": "City", "ru": "Город", "ar": "المدينة"},
            "choices": ["Moscow", "Dubai", "London"],
            "required_from": "Commercial offer",  # a stage of Sales only
        },
        {
            "key": "seats",
            "type": "number",
            "names": {"en": "Seats", "ru": "Места", "ar": "المقاعد"},
            "required_from": "Talk",  # a stage of Renewals only
        },
    ]
}


async def new_deal_from_chat(chat: EmulatedChat, crm: Crm, funnel: str, title: str) -> tuple[Deal, Msg]:
    """/new in ``funnel``, the title typed, the rest skipped: the new deal and its card."""
    await chat.send(ALI, "/new")
    await chat.click(ALI, funnel)
    await chat.send(ALI, title)
    for _ in range(3):
        await chat.click(ALI, "Skip")
    await chat.click(ALI, "Create")
    card = await chat.last(ALI)
    assert "Deal created" in visible(card.text) and f"🧭 {funnel}" in visible(card.text)
    [deal] = [d for d in await crm.deals.list_deals(actor=await crm.users.identify(ALI)) if d.title == title]
    return deal, card


async def press(chat: EmulatedChat, card: Msg, label: str) -> None:
    """Press a button of the card's message (behind "⋯ More" when it is there)."""
    shown = (await chat.message(ALI, card.message_id)).button_texts
    if not any(label in t for t in shown) and any("⋯ More" in t for t in shown):
        await chat.click(ALI, "⋯ More", message_id=card.message_id)
    await chat.click(ALI, label, message_id=card.message_id)


async def stage_of(crm: Crm, deal: Deal) -> str:
    return (await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(ALI))).stage.name


async def test_fields_are_edited_and_required_by_each_funnels_own_stages(
    chat: EmulatedChat, crm: Crm
) -> None:
    sales, renewals = await two_funnels(crm)
    spec = fields_spec_from_document(FIELDS)
    assert spec is not None
    await crm.fields.apply(spec)

    # Renewals: the seats are asked for before Talk; the city is required by no stage of this funnel.
    renewal, card = await new_deal_from_chat(chat, crm, "Renewals", "Support contract 2027")
    assert renewal.pipeline_id == renewals.id
    await press(chat, card, "Edit")
    await chat.click(ALI, "City", message_id=card.message_id)
    await chat.click(ALI, "Dubai", message_id=card.message_id)
    edited = visible((await chat.message(ALI, card.message_id)).text)
    assert "Saved" in edited and "City: Dubai" in edited and "🧭 Renewals" in edited
    await press(chat, card, "Move to…")
    await chat.click(ALI, "Talk", message_id=card.message_id)
    asked = visible((await chat.message(ALI, card.message_id)).text)
    assert "Before Talk, fill in: Seats" in asked
    assert await stage_of(crm, renewal) == "Due"
    await chat.send(ALI, "many")
    again = visible((await chat.message(ALI, card.message_id)).text)
    assert "That Seats doesn't work: a number such as 12 or 12.5." in again
    assert await stage_of(crm, renewal) == "Due"
    await chat.send(ALI, "40")
    moved = visible((await chat.message(ALI, card.message_id)).text)
    assert "Moved to Talk" in moved and "Seats: 40" in moved and "City: Dubai" in moved
    assert await stage_of(crm, renewal) == "Talk"

    # Sales: the city is asked for before Commercial offer, with its choices as buttons.
    sale, card = await new_deal_from_chat(chat, crm, "Sales", "Office phones for the clinic")
    assert sale.pipeline_id == sales.id
    await press(chat, card, "Move to…")
    await chat.click(ALI, "Commercial offer", message_id=card.message_id)
    question = await chat.message(ALI, card.message_id)
    assert "Before Commercial offer, fill in: City" in visible(question.text)
    assert {"Moscow", "Dubai", "London"} <= set(question.button_texts)
    assert all(len(row) <= 3 for row in question.buttons)
    assert await stage_of(crm, sale) != "Commercial offer"
    await chat.click(ALI, "London", message_id=card.message_id)
    moved = visible((await chat.message(ALI, card.message_id)).text)
    assert "Moved to Commercial offer" in moved and "City: London" in moved and "🧭 Sales" in moved
    assert await stage_of(crm, sale) == "Commercial offer"
    values = await crm.deals.field_values_of(deals=[renewal, sale], actor=await crm.users.identify(ALI))
    assert values[renewal.id] == {"city": ("Dubai",), "seats": ("40",)}
    assert values[sale.id] == {"city": ("London",)}
