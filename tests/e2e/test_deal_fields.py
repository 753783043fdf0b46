"""The team's own fields in the chat: shown on the card, edited from "✏️ Edit" (a wrong value is explained
and asked again), and asked for when a move goes past the stage that requires them."""

from __future__ import annotations

from crm_core.domain.deals import Deal
from crm_core.services import Crm
from crm_core.services.fields import fields_spec_from_document
from tests.e2e.harness import ALI, EmulatedChat, Msg

FIELDS = {
    "fields": [
        {
            "key": "city",
            "type": "choice",
            "names": {"en": "City", "ru": "Город", "ar": "المدينة"},
            "choices": ["Moscow", "Dubai", "London", "Paris"],
            "required_from": "Commercial offer",
        },
        {
            "key": "seats",
            "type": "number",
            "names": {"en": "Seats", "ru": "Места", "ar": "المقاعد"},
            "required_from": "Signing & payment",
        },
        {
            "key": "products",
            "type": "multi_choice",
            "names": {"en": "Products"},
            "choices": ["PBX", "Phones"],
        },
        {"key": "paid", "type": "bool", "names": {"en": "Prepaid"}},
    ]
}


async def with_fields(crm: Crm) -> None:
    spec = fields_spec_from_document(FIELDS)
    assert spec is not None
    await crm.fields.apply(spec)


async def alis_deal(crm: Crm, title: str, stage: str | None = None) -> Deal:
    ali = await crm.users.identify(ALI)
    return await crm.deals.create(actor=ali, title=title, amount="12000", stage=stage)


async def open_card(chat: EmulatedChat, title: str) -> Msg:
    await chat.send(ALI, f"/find {title}")
    await chat.click(ALI, title)
    return await chat.last(ALI)


async def press(chat: EmulatedChat, card: Msg, label: str) -> None:
    """Press a button of the card's message (behind "⋯ More" when it is there)."""
    shown = (await chat.message(ALI, card.message_id)).button_texts
    if not any(label in t for t in shown) and any("⋯ More" in t for t in shown):
        await chat.click(ALI, "⋯ More", message_id=card.message_id)
    await chat.click(ALI, label, message_id=card.message_id)


def plain(msg: Msg) -> str:
    """The message's text without the direction isolates around user texts."""
    return msg.text.replace("\u2068", "").replace("\u2069", "")


async def values(crm: Crm, deal: Deal) -> dict[str, tuple[str, ...]]:
    return await crm.deals.field_values(deal_id=deal.id, actor=await crm.users.identify(ALI))


async def test_a_choice_and_a_number_are_edited_from_the_card_after_a_wrong_value(
    chat: EmulatedChat, crm: Crm
) -> None:
    await with_fields(crm)
    deal = await alis_deal(crm, "Office phones")
    card = await open_card(chat, deal.title)
    assert "City" not in card.text  # empty fields are hidden
    await press(chat, card, "Edit")
    menu = await chat.message(ALI, card.message_id)
    assert {"City", "Seats", "Products", "Prepaid"} <= set(menu.button_texts)
    assert all(len(row) <= 3 for row in menu.buttons)

    await chat.click(ALI, "City", message_id=card.message_id)
    asked = await chat.message(ALI, card.message_id)
    assert "New City? Now: —" in asked.text
    assert {"Moscow", "Dubai", "London", "Paris"} <= set(asked.button_texts)
    assert all(len(row) <= 3 for row in asked.buttons)
    await chat.click(ALI, "Dubai", message_id=card.message_id)
    shown = plain(await chat.message(ALI, card.message_id))
    assert "Saved" in shown and "City: Dubai" in shown

    await press(chat, card, "Edit")
    await chat.click(ALI, "Seats", message_id=card.message_id)
    await chat.send(ALI, "a dozen")
    retry = await chat.last(ALI)
    assert "That Seats doesn't work: a number such as 12 or 12.5." in retry.text
    assert "New Seats? Now: —" in retry.text
    assert await values(crm, deal) == {"city": ("Dubai",)}
    await chat.send(ALI, "12")
    card_again = plain(await chat.last(ALI))
    assert "Saved" in card_again and "Seats: 12" in card_again and "City: Dubai" in card_again
    assert await values(crm, deal) == {"city": ("Dubai",), "seats": ("12",)}


async def test_a_multi_choice_is_ticked_then_saved_with_done(chat: EmulatedChat, crm: Crm) -> None:
    await with_fields(crm)
    deal = await alis_deal(crm, "Branch office")
    card = await open_card(chat, deal.title)
    await press(chat, card, "Edit")
    await chat.click(ALI, "Products", message_id=card.message_id)
    await chat.click(ALI, "PBX", message_id=card.message_id)
    await chat.click(ALI, "Phones", message_id=card.message_id)
    ticked = await chat.message(ALI, card.message_id)
    assert {"☑️ PBX", "☑️ Phones"} <= set(ticked.button_texts)
    assert await values(crm, deal) == {}  # nothing saved before Done
    await chat.click(ALI, "Done", message_id=card.message_id)
    assert "Products: PBX, Phones" in plain(await chat.message(ALI, card.message_id))
    await press(chat, card, "Edit")
    await chat.click(ALI, "Prepaid", message_id=card.message_id)
    await chat.click(ALI, "Yes", message_id=card.message_id)
    assert "Prepaid: yes" in plain(await chat.message(ALI, card.message_id))
    assert await values(crm, deal) == {"products": ("PBX", "Phones"), "paid": ("yes",)}


async def test_a_move_past_the_required_stages_asks_for_each_field_then_moves(
    chat: EmulatedChat, crm: Crm
) -> None:
    await with_fields(crm)
    deal = await alis_deal(crm, "Call centre", stage="Opportunity")
    card = await open_card(chat, deal.title)
    await press(chat, card, "Move to…")
    await chat.click(ALI, "Signing & payment", message_id=card.message_id)
    asked = await chat.message(ALI, card.message_id)
    assert "Before Signing & payment, fill in: City" in asked.text
    assert "Moscow" in asked.button_texts
    assert (
        await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(ALI))
    ).stage.name == "Opportunity"
    await chat.click(ALI, "London", message_id=card.message_id)
    seats = await chat.message(ALI, card.message_id)
    assert "Before Signing & payment, fill in: Seats" in seats.text
    await chat.send(ALI, "twenty")
    again = await chat.message(ALI, card.message_id)
    assert "That Seats doesn't work: a number such as 12 or 12.5." in again.text
    assert "Before Signing & payment, fill in: Seats" in again.text
    assert (
        await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(ALI))
    ).stage.name == "Opportunity"
    await chat.send(ALI, "20")
    moved = plain(await chat.message(ALI, card.message_id))
    assert "Moved to Signing & payment" in moved and "City: London" in moved and "Seats: 20" in moved
    reloaded = await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(ALI))
    assert reloaded.stage.name == "Signing & payment"
