"""/new: four questions, a bad answer explained and the question asked again; skip, share, cancel."""

from __future__ import annotations

from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, MARIA, EmulatedChat

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


# -- old buttons of a draft act on nothing newer ------------------------------------------------------


async def a_summary(chat: EmulatedChat, title: str, amount: str) -> int:
    """A /new draft up to its summary (no contact, no phone); the summary's message id."""
    await chat.send(ALI, f"/new {title}")
    await chat.click(ALI, "Skip")
    await chat.click(ALI, "Skip")
    await chat.send(ALI, amount)
    summary = await chat.last(ALI)
    assert "Create it?" in summary.text and title in summary.text
    return summary.message_id


async def test_create_under_an_old_abandoned_summary_creates_nothing_and_the_new_draft_stays(
    chat: EmulatedChat, crm: Crm
) -> None:
    old = await a_summary(chat, "Old idea", "100")
    await chat.send(ALI, "/cancel")
    new = await a_summary(chat, "New idea", "200")
    query = await chat.click(ALI, "Create", message_id=old)
    answer = await chat.answer(query)
    assert answer is not None and answer["show_alert"]
    assert answer["text"] == "This summary is out of date — nothing was done. Use the newest one."
    ali = await crm.users.identify(ALI)
    assert await crm.deals.list_deals(actor=ali) == []
    await chat.click(ALI, "Create", message_id=new)
    [deal] = await crm.deals.list_deals(actor=ali)
    assert (deal.title, str(deal.amount)) == ("New idea", "200.00")


async def test_a_summary_of_the_same_deal_typed_again_creates_only_from_the_newest(
    chat: EmulatedChat, crm: Crm
) -> None:
    first = await a_summary(chat, "Boiler", "100")
    second = await a_summary(chat, "Boiler", "150")  # started over: the same title, another amount
    answer = await chat.answer(await chat.click(ALI, "Create", message_id=first))
    assert answer is not None and "out of date" in answer["text"]
    assert await crm.deals.list_deals(actor=await crm.users.identify(ALI)) == []
    await chat.click(ALI, "Create", message_id=second)
    [deal] = await crm.deals.list_deals(actor=await crm.users.identify(ALI))
    assert str(deal.amount) == "150.00"
    again = await chat.answer(await chat.click(ALI, "Create", message_id=first))
    assert again is not None and "out of date" in again["text"]  # and once created, never twice
    assert len(await crm.deals.list_deals(actor=await crm.users.identify(ALI))) == 1


async def test_skip_under_an_earlier_question_does_not_skip_the_current_one(chat: EmulatedChat) -> None:
    await chat.send(ALI, "/new Windows")
    contact_question = (await chat.last(ALI)).message_id
    await chat.send(ALI, "Anna")
    assert PHONE_Q in (await chat.last(ALI)).text
    answer = await chat.answer(await chat.click(ALI, "Skip", message_id=contact_question))
    assert answer is not None and "This question is out of date" in answer["text"]
    await chat.send(ALI, "+7 916 000-11-22")  # still the phone's question
    assert AMOUNT_Q in (await chat.last(ALI)).text


# -- a known number ----------------------------------------------------------------------------------


async def test_the_summary_says_whose_a_known_number_is_with_only_the_deals_the_seller_may_see(
    chat: EmulatedChat, crm: Crm
) -> None:
    ali, maria = await crm.users.identify(ALI), await crm.users.identify(MARIA)
    await crm.deals.create(actor=ali, title="Ivan: phones", contact_name="Ivan Petrov", phone="+74951234567")
    await crm.deals.create(actor=maria, title="Ivan: secret", phone="+74951234567")
    await chat.send(ALI, "/new Ivan: headsets")
    await chat.send(ALI, "Vanya")
    await chat.send(ALI, "8 495 123-45-67")
    await chat.click(ALI, "Skip")
    summary = (await chat.last(ALI)).text
    assert "This number is already Ivan Petrov's: the new deal joins that customer." in summary
    assert "Their open deals: «Ivan: phones», 1 of another seller" in summary
    assert "secret" not in summary
    await chat.click(ALI, "Create")
    deals = await crm.deals.find(query="+74951234567", actor=await crm.users.identify(BOSS))
    assert len({d.contact.id for d in deals if d.contact}) == 1 and len(deals) == 3
