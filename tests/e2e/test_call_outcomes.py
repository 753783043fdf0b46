"""Every answered call ends in an outcome: its seller is asked how it went, with one tap each."""

from __future__ import annotations

from datetime import UTC, datetime

from crm_core.domain.calls import CallOutcome
from crm_core.domain.history import EventKind
from crm_core.services import Crm
from tests.e2e.harness import ALI, EmulatedChat, RunningKanbot
from tests.e2e.test_calls import post_call, said_to


async def test_a_call_that_ends_asks_how_it_went_and_not_interested_loses_the_deal_with_a_reason(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    outcome = await post_call(kanbot)  # in progress: the pop-up
    await said_to(chat, ALI, "New customer on the line")
    await post_call(kanbot, ended_at=datetime.now(UTC).isoformat(), duration_s=125)
    ended = await said_to(chat, ALI, "The call ended after 2:05. How did it go?")
    assert {"🗣 Talked", "📵 No answer", "🕒 Call later", "🚫 Not interested", "📝 Note"} <= set(
        ended.button_texts
    )
    await chat.click(ALI, "Not interested", message_id=ended.message_id)
    assert "Why was it lost?" in (await chat.message(ALI, ended.message_id)).text
    await chat.click(ALI, "Price", message_id=ended.message_id)
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.get(deal_id=outcome["deal_id"], actor=ali)
    assert (deal.stage.name, deal.lost_reason) == ("Lost", "Price")
    history = await crm.deals.history(deal_id=deal.id, actor=ali)
    assert [e.data["outcome"] for e in history if e.kind is EventKind.CALL_OUTCOME] == ["not_interested"]
    (call,) = await crm.calls.of_deal(deal_id=deal.id, actor=ali)
    assert call.outcome is CallOutcome.NOT_INTERESTED


async def test_when_an_answered_call_ends_its_pop_up_is_edited_in_place_with_the_duration_and_outcomes(
    chat: EmulatedChat, kanbot: RunningKanbot
) -> None:
    await post_call(kanbot, call_id="c-5")
    pop_up = await said_to(chat, ALI, "New customer on the line")
    await chat.wait()
    messages = len(await chat.bot_messages(ALI))
    await post_call(kanbot, call_id="c-5", ended_at=datetime.now(UTC).isoformat(), duration_s=75)

    async def edited() -> bool:
        return "The call ended after 1:15" in (await chat.message(ALI, pop_up.message_id)).text

    await chat.wait_until(edited, what="the pop-up edited with the call's end")
    card = await chat.message(ALI, pop_up.message_id)
    assert {"🗣 Talked", "📵 No answer", "🕒 Call later", "🚫 Not interested", "📝 Note"} <= set(
        card.button_texts
    )
    assert "Opportunity ▶" in card.button_texts  # the deal's card, under the outcomes
    await chat.wait()
    assert len(await chat.bot_messages(ALI)) == messages  # one live card for the call, no second one
    await chat.click(ALI, "Talked", message_id=pop_up.message_id)
    assert "Talked." in (await chat.message(ALI, pop_up.message_id)).text


async def test_a_pop_up_whose_call_ended_before_the_caller_was_named_still_asks_who_is_calling(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    outcome = await post_call(kanbot, call_id="c-7")
    pop_up = await said_to(chat, ALI, "Who is calling?")
    await post_call(kanbot, call_id="c-7", ended_at=datetime.now(UTC).isoformat(), duration_s=30)

    async def edited() -> bool:
        return "The call ended after 0:30" in (await chat.message(ALI, pop_up.message_id)).text

    await chat.wait_until(edited, what="the pop-up edited with the call's end")
    assert "Who is calling?" in (await chat.message(ALI, pop_up.message_id)).text
    await chat.send(ALI, "Ivan Petrov")
    deal = await crm.deals.get(deal_id=outcome["deal_id"], actor=await crm.users.identify(ALI))
    assert deal.title == "Ivan Petrov"


async def test_the_end_of_a_call_waits_out_telegrams_429_on_the_edit_and_still_edits_the_pop_up(
    chat: EmulatedChat, kanbot: RunningKanbot
) -> None:
    await post_call(kanbot, call_id="c-6")
    pop_up = await said_to(chat, ALI, "New customer on the line")
    await chat.wait()
    messages = len(await chat.bot_messages(ALI))
    await chat.faults("editMessageText", 429, 2, retry_after=1)
    await post_call(kanbot, call_id="c-6", ended_at=datetime.now(UTC).isoformat(), duration_s=5)

    async def edited() -> bool:
        return "The call ended after 0:05" in (await chat.message(ALI, pop_up.message_id)).text

    await chat.wait_until(edited, timeout_s=30, what="the pop-up edited after the 429s")
    await chat.wait()
    assert len(await chat.bot_messages(ALI)) == messages
    assert [e["status"] for e in await chat.log("editMessageText")].count(429) == 2


async def test_a_call_reported_once_it_ended_pops_up_with_its_outcomes_and_call_later_plans_a_call_back(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    await post_call(kanbot, call_id="c-2", ended_at=datetime.now(UTC).isoformat(), duration_s=61)
    card = await said_to(chat, ALI, "The call ended after 1:01")
    assert "New customer on the line" in card.text
    await chat.click(ALI, "Call later", message_id=card.message_id)
    assert "Call-back planned" in (await chat.message(ALI, card.message_id)).text
    ali = await crm.users.identify(ALI)
    (task,) = await crm.tasks.open_tasks(actor=ali)
    assert (task.phone, task.text) == ("+74951234567", "")  # data: each reader words it


async def test_a_new_caller_is_named_by_the_sellers_one_reply_during_the_call(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    outcome = await post_call(kanbot, call_id="c-3")
    card = await said_to(chat, ALI, "Who is calling?")
    assert "New customer on the line" in card.text
    await chat.send(ALI, "Ivan Petrov, ACME")
    assert "Saved: Ivan Petrov, ACME." in (await chat.last(ALI)).text
    deal = await crm.deals.get(deal_id=outcome["deal_id"], actor=await crm.users.identify(ALI))
    assert deal.title == "Ivan Petrov, ACME"
    assert deal.contact is not None
    assert (deal.contact.name, deal.contact.company, deal.contact.phone) == (
        "Ivan Petrov",
        "ACME",
        "+74951234567",
    )


async def test_a_known_customers_pop_up_names_them_and_shows_the_last_note(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(
        actor=ali, title="ACME: 20 IP phones", contact_name="Ivan Petrov", phone="+74951234567"
    )
    await crm.deals.edit(deal_id=deal.id, field="company", value="ACME", actor=ali)
    await crm.deals.add_note(deal_id=deal.id, text="Wants a quote by Friday", actor=ali)
    await post_call(kanbot, call_id="c-4")
    card = await said_to(chat, ALI, "On the line")
    for words in (
        "Ivan Petrov",
        "ACME",
        "ACME: 20 IP phones",
        "Unsorted",
        "Ali",
        "📝 Wants a quote by Friday",
    ):
        assert words in card.text, (words, card.text)
    assert "Who is calling?" not in card.text
