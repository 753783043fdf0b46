"""/new: four questions, a bad answer explained and the question asked again; skip, share, cancel."""

from __future__ import annotations

from crm_core.services import Crm
from tests.e2e.harness import ALI, EmulatedChat

TITLE_Q = "What is the deal?"
CONTACT_Q = "Who is the customer?"
PHONE_Q = "Their phone number?"
AMOUNT_Q = "The amount?"


async def answer_expecting_again(chat: EmulatedChat, text: str, complaint: str, question: str) -> None:
    """Send a bad answer: the bot says what is wrong and asks the same question again."""
    before = len(await chat.bot_messages(ALI))
    await chat.send(ALI, text)
    [said] = (await chat.bot_messages(ALI))[before:]
    complaint_line, *rest = said.text.splitlines()
    assert "⚠️" in complaint_line and complaint in complaint_line, said.text
    assert question in "\n".join(rest), said.text


async def test_bad_answers_are_explained_and_the_question_is_asked_again(
    chat: EmulatedChat, crm: Crm
) -> None:
    await chat.send(ALI, "/new")
    assert TITLE_Q in (await chat.last(ALI)).text
    await answer_expecting_again(
        chat, "\u3164", "title doesn't work: it cannot be empty", TITLE_Q
    )  # how Telegram users send "nothing"
    await answer_expecting_again(chat, "T" * 300, "at most 200 characters", TITLE_Q)
    await chat.send(ALI, "Boiler for the school")
    assert CONTACT_Q in (await chat.last(ALI)).text
    await chat.send(ALI, "Anna Ivanova")
    await answer_expecting_again(chat, "call me maybe", "it is not a phone number", PHONE_Q)
    await chat.send(ALI, "+7 916 000-11-22")
    await answer_expecting_again(chat, "abc", "amount doesn't work: a positive number", AMOUNT_Q)
    await answer_expecting_again(chat, "-5", "amount doesn't work: a positive number", AMOUNT_Q)
    await chat.send(ALI, "15k")
    summary = await chat.last(ALI)
    assert "Boiler for the school" in summary.text and "15,000" in summary.text
    await chat.click(ALI, "Create")
    card = await chat.last(ALI)
    assert card.message_id == summary.message_id and card.edited
    assert "Deal created" in card.text and "Unsorted" in card.text
    [deal] = await crm.deals.list_deals(actor=await crm.users.identify(ALI))
    assert deal.title == "Boiler for the school" and str(deal.amount) == "15000.00"
    assert deal.contact is not None and deal.contact.name == "Anna Ivanova"
    assert deal.contact.phone == "+79160001122"


async def test_optional_questions_can_be_skipped(chat: EmulatedChat, crm: Crm) -> None:
    await chat.send(ALI, "/new")
    await chat.send(ALI, "Just a title")
    await chat.click(ALI, "Skip")
    assert PHONE_Q in (await chat.last(ALI)).text
    await chat.click(ALI, "Skip")
    assert AMOUNT_Q in (await chat.last(ALI)).text
    await chat.click(ALI, "Skip")
    assert "Create it?" in (await chat.last(ALI)).text
    await chat.click(ALI, "Create")
    [deal] = await crm.deals.list_deals(actor=await crm.users.identify(ALI))
    assert deal.title == "Just a title" and deal.amount is None and deal.contact is None


async def test_a_shared_contact_answers_the_name_and_the_phone_at_once(chat: EmulatedChat, crm: Crm) -> None:
    await chat.send(ALI, "/new")
    await chat.send(ALI, "Windows for the dacha")
    await chat.share_contact(ALI, "+79031234567", "Pavel")
    assert AMOUNT_Q in (await chat.last(ALI)).text
    await chat.send(ALI, "1 500,50")
    summary = await chat.last(ALI)
    assert "Pavel" in summary.text and "+7 903 123-45-67" in summary.text
    await chat.click(ALI, "Create")
    [deal] = await crm.deals.list_deals(actor=await crm.users.identify(ALI))
    assert deal.contact is not None and deal.contact.name == "Pavel" and deal.contact.phone == "+79031234567"
    assert str(deal.amount) == "1500.50"


async def test_cancel_leaves_the_flow_and_creates_nothing(chat: EmulatedChat, crm: Crm) -> None:
    await chat.send(ALI, "/new")
    await chat.send(ALI, "Never mind")
    await chat.send(ALI, "/cancel")
    assert "Cancelled" in (await chat.last(ALI)).text
    await chat.send(ALI, "Vasily")  # no longer an answer: a search
    assert "Nothing found" in (await chat.last(ALI)).text
    assert await crm.deals.list_deals(actor=await crm.users.identify(ALI)) == []


async def test_the_cancel_button_drops_the_draft(chat: EmulatedChat, crm: Crm) -> None:
    await chat.send(ALI, "/new Short-lived")
    await chat.click(ALI, "Cancel")
    assert "dropped" in (await chat.last(ALI)).text
    await chat.send(ALI, "Some name")
    assert "Nothing found" in (await chat.last(ALI)).text
    assert await crm.deals.list_deals(actor=await crm.users.identify(ALI)) == []
