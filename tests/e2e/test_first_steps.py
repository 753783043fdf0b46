"""A newcomer's first steps: greeting, a stranger refused, a first deal."""

from __future__ import annotations

from crm_core.services import Crm
from tests.e2e.harness import ALI, STRANGER, EmulatedChat


async def test_a_seller_is_greeted_with_the_main_menu(chat: EmulatedChat) -> None:
    await chat.send(ALI, "/start")
    last = await chat.last(ALI)
    assert "Hi, Ali" in last.text
    assert last.raw["keyboard"]


async def test_a_stranger_is_refused_and_told_their_telegram_id(chat: EmulatedChat, crm: Crm) -> None:
    await chat.send(STRANGER, "/deals")
    last = await chat.last(STRANGER)
    assert str(STRANGER) in last.text
    assert await crm.users.by_telegram_id(STRANGER) is None


async def test_a_seller_creates_a_deal_answering_a_bad_phone_again(chat: EmulatedChat, crm: Crm) -> None:
    await chat.send(ALI, "/new")
    await chat.send(ALI, "ACME: 20 IP phones")
    await chat.send(ALI, "Ivan Petrov")
    await chat.send(ALI, "not a phone")
    assert "phone" in (await chat.bot_messages(ALI))[-2].text
    await chat.send(ALI, "8 495 123-45-67")
    await chat.send(ALI, "1 500,50")
    await chat.click(ALI, "Create")
    card = await chat.last(ALI)
    assert "ACME: 20 IP phones" in card.text and "Unsorted" in card.text
    ali = await crm.users.identify(ALI)
    [deal] = await crm.deals.list_deals(actor=ali)
    assert str(deal.amount) == "1500.50" and deal.contact is not None and deal.contact.phone == "+74951234567"
