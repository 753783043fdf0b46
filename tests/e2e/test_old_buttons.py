"""Every button of a multi-step flow carries the draft it confirms: an old one says it is out of date and
changes nothing (deactivating, inviting, snoozing); and a contact other deals share asks, in the chat,
whether a change is for all of its deals or for this deal alone."""

from __future__ import annotations

from typing import Any

from crm_core.domain.history import EventKind
from crm_core.domain.users import Role
from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, MARIA, EmulatedChat, Msg

OUT_OF_DATE = "This question is out of date — nothing was done. Use the newest one."


async def pressed(chat: EmulatedChat, user: int, label: str, message_id: int) -> dict[str, Any]:
    answer = await chat.answer(await chat.click(user, label, message_id=message_id))
    assert answer is not None
    return answer


async def deactivate_question(chat: EmulatedChat, who: str) -> int:
    await chat.send(BOSS, "/team")
    team = await chat.last(BOSS)
    await chat.click(BOSS, who, message_id=team.message_id)
    await chat.click(BOSS, "Deactivate", message_id=team.message_id)
    assert f"Deactivate {who}?" in (await chat.message(BOSS, team.message_id)).text
    return team.message_id


async def test_an_old_deactivate_question_does_not_deactivate_someone_let_back_in_since(
    chat: EmulatedChat, crm: Crm
) -> None:
    old = await deactivate_question(chat, "Ali")
    newer = await deactivate_question(chat, "Ali")
    await chat.click(BOSS, "Nobody (inbox)", message_id=newer)
    assert "Ali is deactivated" in (await chat.message(BOSS, newer)).text
    invite = await crm.invites.create(role=Role.SELLER, actor=await crm.users.identify(BOSS))
    await chat.send(ALI, f"/start {invite.code}")  # let back in
    answer = await pressed(chat, BOSS, "Maria", old)
    assert answer["show_alert"] and answer["text"] == OUT_OF_DATE
    ali = await crm.users.by_telegram_id(ALI)
    assert ali is not None and ali.active


async def test_an_invitation_menu_makes_one_invitation_and_an_older_menu_none(
    chat: EmulatedChat, crm: Crm
) -> None:
    await chat.send(BOSS, "/invite")
    old = (await chat.last(BOSS)).message_id
    await chat.send(BOSS, "/invite")
    newer = (await chat.last(BOSS)).message_id
    await chat.click(BOSS, "Seller", message_id=newer)
    assert "Send this link to the new seller" in (await chat.message(BOSS, newer)).text
    answer = await pressed(chat, BOSS, "Boss", old)
    assert answer["text"] == OUT_OF_DATE
    [pending] = await crm.invites.pending(actor=await crm.users.identify(BOSS))
    assert pending.role is Role.SELLER


async def open_card(chat: EmulatedChat, user: int, title: str) -> Msg:
    await chat.send(user, f"/find {title}")
    await chat.click(user, title)
    return await chat.last(user)


async def test_no_reason_under_an_older_snooze_question_snoozes_nothing(chat: EmulatedChat, crm: Crm) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="Quiet customer")
    card = await open_card(chat, ALI, "Quiet customer")
    await chat.click(ALI, "⋯ More", message_id=card.message_id)
    await chat.click(ALI, "Snooze", message_id=card.message_id)
    await chat.click(ALI, "1 day", message_id=card.message_id)
    first = await chat.last(ALI)
    assert "Why?" in first.text
    await chat.send(ALI, "/deals")
    answer = await pressed(chat, ALI, "No reason", first.message_id)
    assert answer["text"] == OUT_OF_DATE
    now = await crm.deals.get(deal_id=deal.id, actor=ali)
    assert now.snoozed_until is None and now.version == deal.version


# -- a shared contact, edited from a card ---------------------------------------------------------------


async def ivans_deals(crm: Crm) -> tuple[int, int]:
    ali, maria = await crm.users.identify(ALI), await crm.users.identify(MARIA)
    alis = await crm.deals.create(actor=ali, title="Ivan: phones", contact_name="Ivan", phone="+74951234567")
    marias = await crm.deals.create(actor=maria, title="Ivan: cables", phone="+74951234567")
    return alis.id, marias.id


async def edit_field(chat: EmulatedChat, title: str, field: str, value: str) -> Msg:
    card = await open_card(chat, ALI, title)
    await chat.click(ALI, "⋯ More", message_id=card.message_id)
    await chat.click(ALI, "Edit", message_id=card.message_id)
    await chat.click(ALI, field, message_id=card.message_id)
    await chat.send(ALI, value)
    return await chat.last(ALI)


async def test_editing_a_shared_phone_asks_and_for_all_changes_every_deal_with_its_history(
    chat: EmulatedChat, crm: Crm
) -> None:
    alis, marias = await ivans_deals(crm)
    question = await edit_field(chat, "Ivan: phones", "Phone", "+7 495 765-43-21")
    assert "Ivan is the contact of 2 deals." in question.text
    assert question.button_texts == [
        "👥 For all 2 deals",
        "👤 Only this deal: its own contact",
        "⬅ Back to the card",
    ]
    boss = await crm.users.identify(BOSS)
    assert (await crm.deals.get(deal_id=marias, actor=boss)).version == 1  # nothing yet
    await chat.click(ALI, "For all 2 deals", message_id=question.message_id)
    assert "Saved for every deal of this contact." in (await chat.last(ALI)).text
    for deal_id in (alis, marias):
        deal = await crm.deals.get(deal_id=deal_id, actor=boss)
        assert deal.contact is not None and deal.contact.phone == "+74957654321"
    last = (await crm.deals.history(deal_id=marias, actor=boss))[-1]
    assert (last.kind, last.actor_name, last.data["via_deal"]) == (EventKind.EDITED, "Ali", alis)
    card = await chat.message(ALI, question.message_id)  # the question was asked in the card's message
    assert not any("Only this deal" in t for t in card.button_texts)  # answered: the card is back


async def test_only_this_deal_gives_it_its_own_contact_and_leaves_the_other_deal_alone(
    chat: EmulatedChat, crm: Crm
) -> None:
    alis, marias = await ivans_deals(crm)
    question = await edit_field(chat, "Ivan: phones", "Contact name", "Anna")
    await chat.click(ALI, "Only this deal", message_id=question.message_id)
    assert "this deal has its own contact now" in (await chat.last(ALI)).text
    boss = await crm.users.identify(BOSS)
    mine, theirs = [await crm.deals.get(deal_id=d, actor=boss) for d in (alis, marias)]
    assert mine.contact is not None and theirs.contact is not None
    assert (mine.contact.name, theirs.contact.name, theirs.contact.phone) == ("Anna", "Ivan", "+74951234567")
    assert [e.kind for e in await crm.deals.history(deal_id=marias, actor=boss)] == [EventKind.CREATED]
