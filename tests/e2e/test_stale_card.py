"""A card that no longer shows the deal as it is: a press on it is refused, answered, and the card redrawn."""

from __future__ import annotations

from crm_core.domain.deals import Deal
from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, MARIA, EmulatedChat, Msg


async def alis_deal(crm: Crm) -> Deal:
    return await crm.deals.create(
        actor=await crm.users.identify(ALI), title="Solar panels", stage="Opportunity"
    )


async def open_card(chat: EmulatedChat, title: str) -> Msg:
    await chat.send(ALI, f"/find {title}")
    await chat.click(ALI, title)
    return await chat.last(ALI)


async def test_a_press_on_a_card_changed_elsewhere_is_not_applied(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    ali = await crm.users.identify(ALI)
    await crm.deals.edit(deal_id=deal.id, field="title", value="Solar panels, 40 kW", actor=ali)
    query = await chat.click(ALI, "Commercial offer ▶", message_id=card.message_id)
    answer = await chat.answer(query)
    assert answer is not None and "out of date" in (answer["text"] or "")
    redrawn = await chat.message(ALI, card.message_id)
    assert redrawn.edited and "out of date" in redrawn.text
    assert "Solar panels, 40 kW" in redrawn.text and "Opportunity" in redrawn.text
    now = await crm.deals.get(deal_id=deal.id, actor=ali)
    assert now.stage.name == "Opportunity" and now.version == deal.version + 1
    after = await chat.click(ALI, "Commercial offer ▶", message_id=card.message_id)  # the redrawn card works
    assert await chat.answer(after) is not None
    assert (await crm.deals.get(deal_id=deal.id, actor=ali)).stage.name == "Commercial offer"


async def test_a_press_on_an_older_copy_of_the_card_does_not_move_the_deal_twice(
    chat: EmulatedChat, crm: Crm
) -> None:
    deal = await alis_deal(crm)
    older = await open_card(chat, deal.title)
    newer = await open_card(chat, deal.title)
    assert older.message_id != newer.message_id
    await chat.click(ALI, "Commercial offer ▶", message_id=newer.message_id)
    query = await chat.click(ALI, "Commercial offer ▶", message_id=older.message_id)
    answer = await chat.answer(query)
    assert answer is not None and "out of date" in (answer["text"] or "")
    redrawn = await chat.message(ALI, older.message_id)
    assert "Commercial offer" in redrawn.text and "Moved to" not in redrawn.text
    ali = await crm.users.identify(ALI)
    assert (await crm.deals.get(deal_id=deal.id, actor=ali)).stage.name == "Commercial offer"
    assert len(await crm.deals.history(deal_id=deal.id, actor=ali)) == 2  # created, moved once


async def test_a_stale_won_press_is_not_applied(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    ali = await crm.users.identify(ALI)
    await crm.deals.mark_lost(deal_id=deal.id, reason="Price", actor=ali)
    query = await chat.click(ALI, "🏆 Won", message_id=card.message_id)
    answer = await chat.answer(query)
    assert answer is not None and "out of date" in (answer["text"] or "")
    redrawn = await chat.message(ALI, card.message_id)
    assert "Reason: Price" in redrawn.text
    assert (await crm.deals.get(deal_id=deal.id, actor=ali)).stage.name == "Lost"


async def test_a_double_tap_on_next_moves_the_deal_once(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    first = await chat.click(ALI, "Commercial offer ▶", message_id=card.message_id, wait=False)
    second = await chat.click(ALI, "Commercial offer ▶", message_id=card.message_id, wait=False)
    await chat.wait()
    answers = [await chat.answer(q) for q in (first, second)]
    assert all(a is not None for a in answers), answers
    assert any("out of date" in (a["text"] or "") for a in answers if a), answers
    ali = await crm.users.identify(ALI)
    assert (await crm.deals.get(deal_id=deal.id, actor=ali)).stage.name == "Commercial offer"
    assert len(await crm.deals.history(deal_id=deal.id, actor=ali)) == 2
    assert "Commercial offer" in (await chat.message(ALI, card.message_id)).text
    assert await chat.refusals() == []


async def test_an_answer_about_a_deal_changed_meanwhile_shows_it_and_ends_the_question(
    chat: EmulatedChat, crm: Crm
) -> None:
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    await chat.click(ALI, "⋯ More", message_id=card.message_id)
    await chat.click(ALI, "Edit", message_id=card.message_id)
    await chat.click(ALI, "Amount", message_id=card.message_id)
    ali = await crm.users.identify(ALI)
    await crm.deals.edit(deal_id=deal.id, field="title", value="Solar panels, 40 kW", actor=ali)
    await chat.send(ALI, "2500")
    current = await chat.last(ALI)
    assert "out of date" in current.text and "Solar panels, 40 kW" in current.text
    assert (await crm.deals.get(deal_id=deal.id, actor=ali)).amount is None
    await chat.send(ALI, "40 kW")  # no longer an answer to the old question: a search
    assert "Found for «40 kW»" in (await chat.last(ALI)).text


async def test_a_note_for_a_deal_given_away_meanwhile_is_refused_once(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    await chat.click(ALI, "Note", message_id=card.message_id)
    boss = await crm.users.identify(BOSS)
    await crm.deals.reassign(deal_id=deal.id, owner_telegram_id=MARIA, actor=boss)
    await chat.send(ALI, "Called, no answer")
    assert "not found" in (await chat.last(ALI)).text
    await chat.send(ALI, "Solar")  # a search again, not another note
    assert "Nothing found" in (await chat.last(ALI)).text
    history = await crm.deals.history(deal_id=deal.id, actor=boss)
    assert all(e.data.get("text") != "Called, no answer" for e in history)
