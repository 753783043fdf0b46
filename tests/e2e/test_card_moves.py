"""The deal card: every way to move a deal edits the card in place; closing, reopening, and the history."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core import perform
from crm_core.domain.deals import Deal
from crm_core.domain.history import EventKind
from crm_core.services import Crm, DealService
from tests.e2e.harness import ALI, BOSS, MARIA, EmulatedChat, Msg, crm_at

HINTS = {
    "Unsorted": "Call the customer back and qualify the request",
    "Opportunity": "Find the need, the budget and who decides",
    "Commercial offer": "Send the offer and agree on a follow-up call",
    "Document approval": "Get the contract approved by the customer's side",
    "Signing & payment": "Get the contract signed and the invoice paid",
    "Execution": "Deliver and confirm the customer is satisfied",
}


async def alis_deal(crm: Crm, title: str = "Heat pump for the gym", stage: str | None = None) -> Deal:
    ali = await crm.users.identify(ALI)
    return await crm.deals.create(actor=ali, title=title, amount="12000", stage=stage)


async def open_card(chat: EmulatedChat, title: str) -> Msg:
    await chat.send(ALI, f"/find {title}")
    await chat.click(ALI, title)
    return await chat.last(ALI)


async def stage_of(crm: Crm, deal: Deal) -> str:
    return (await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(ALI))).stage.name


async def press_on_card(chat: EmulatedChat, card: Msg, *labels: str) -> Msg:
    """Press buttons one after another on the card's message (behind "⋯ More" if they are there); it is
    redrawn in place, nothing is added."""
    before = len(await chat.bot_messages(ALI))
    for label in labels:
        shown = (await chat.message(ALI, card.message_id)).button_texts
        if not any(label in t for t in shown) and any("⋯ More" in t for t in shown):
            await chat.click(ALI, "⋯ More", message_id=card.message_id)  # the less frequent buttons
        query = await chat.click(ALI, label, message_id=card.message_id)
        assert await chat.answer(query) is not None, f"{label!r} left the button spinning"
    after = await chat.message(ALI, card.message_id)
    assert after.edited and len(await chat.bot_messages(ALI)) == before
    return after


async def test_next_and_previous_move_the_deal_and_show_the_stages_hint(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    assert "1/7 Unsorted" in card.text
    after = await press_on_card(chat, card, "Opportunity ▶")
    assert "Moved to Opportunity" in after.text and HINTS["Opportunity"] in after.text
    assert "2/7 Opportunity" in after.text
    assert await stage_of(crm, deal) == "Opportunity"
    after = await press_on_card(chat, card, "Commercial offer ▶")
    assert "Moved to Commercial offer" in after.text and HINTS["Commercial offer"] in after.text
    after = await press_on_card(chat, card, "◀ Opportunity")
    assert "Moved to Opportunity" in after.text and HINTS["Opportunity"] in after.text
    assert await stage_of(crm, deal) == "Opportunity"
    assert len(await chat.bot_messages(ALI)) == 1  # the search result became the card; nothing was added


async def test_move_to_reaches_every_stage_editing_the_card_in_place(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    for target in ("Execution", "Document approval", "Signing & payment", "Commercial offer", "Opportunity"):
        after = await press_on_card(chat, card, "Move to…", target)
        assert f"Moved to {target}" in after.text and HINTS[target] in after.text, after.text
        assert await stage_of(crm, deal) == target
    after = await press_on_card(chat, card, "Move to…", "Unsorted")
    assert "Moved to Unsorted" in after.text and HINTS["Unsorted"] in after.text
    after = await press_on_card(chat, card, "Move to…", "Won")
    assert "Won! Well done." in after.text and await stage_of(crm, deal) == "Won"
    assert not any("Move to" in t for t in after.button_texts)  # a won deal only reopens where it was
    after = await press_on_card(chat, card, "↩ Reopen in Unsorted")
    assert "Reopened in Unsorted" in after.text and await stage_of(crm, deal) == "Unsorted"
    after = await press_on_card(chat, card, "Move to…", "Lost")
    assert "Why was it lost?" in after.text
    after = await press_on_card(chat, card, "Not a fit")
    assert "Marked as lost" in after.text and "Reason: Not a fit" in after.text
    assert await stage_of(crm, deal) == "Lost"


async def test_a_won_deal_reopens_in_the_stage_it_was_won_from(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm, stage="Signing & payment")
    card = await open_card(chat, deal.title)
    query = await chat.click(ALI, "🏆 Won", message_id=card.message_id)
    answer = await chat.answer(query)
    assert answer is not None and "Won" in (answer["text"] or "")
    won = await chat.message(ALI, card.message_id)
    assert "Won! Well done." in won.text and not any("🏆 Won" in t for t in won.button_texts)
    assert "↩ Reopen in Signing & payment" in won.button_texts
    reopened = await press_on_card(chat, card, "↩ Reopen in Signing & payment")
    assert "Reopened in Signing & payment" in reopened.text and HINTS["Signing & payment"] in reopened.text
    reloaded = await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(ALI))
    assert reloaded.stage.name == "Signing & payment" and reloaded.closed_at is None


async def test_a_deal_lost_at_the_inbox_reopens_in_the_inbox_not_at_the_end_of_the_funnel(
    chat: EmulatedChat, crm: Crm
) -> None:
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    lost = await press_on_card(chat, card, "Lost", "Not a fit")
    assert "Marked as lost" in lost.text
    assert lost.button_texts[0] == "↩ Reopen in Unsorted"
    assert not any("Execution" in t for t in lost.button_texts)
    reopened = await press_on_card(chat, card, "↩ Reopen in Unsorted")
    assert "Reopened in Unsorted" in reopened.text and "1/7 Unsorted" in reopened.text
    reloaded = await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(ALI))
    assert (reloaded.stage.name, reloaded.lost_reason, reloaded.closed_at) == ("Unsorted", None, None)
    conversion = await crm.reports.conversion(
        actor=await crm.users.identify(BOSS), period=crm.reports.default_period(days=1)
    )
    entered = {r.stage.name: (r.entered, r.lost) for r in conversion.rows}
    assert entered["Unsorted"] == (1, 0) and entered["Execution"] == (0, 0)  # the loss is no loss


async def test_a_deal_lost_for_a_listed_reason_is_reopened(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm, stage="Commercial offer")
    card = await open_card(chat, deal.title)
    lost = await press_on_card(chat, card, "Lost", "No budget")
    assert "Marked as lost" in lost.text and "Reason: No budget" in lost.text
    reloaded = await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(ALI))
    assert reloaded.stage.name == "Lost" and reloaded.lost_reason == "No budget"
    reopened = await press_on_card(chat, card, "↩ Reopen in Commercial offer")
    assert "Reopened in Commercial offer" in reopened.text
    reloaded = await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(ALI))
    assert reloaded.stage.name == "Commercial offer" and reloaded.lost_reason is None


async def test_the_reopen_button_speaks_the_sellers_language(chat: EmulatedChat, crm: Crm) -> None:
    maria = await crm.users.identify(MARIA)
    deal = await crm.deals.create(actor=maria, title="Рога и копыта", stage="Commercial offer")
    await crm.deals.mark_lost(deal_id=deal.id, reason="Price", actor=maria)
    await chat.send(MARIA, "/find Рога")
    await chat.click(MARIA, "Рога и копыта")
    card = await chat.last(MARIA)
    assert "↩ Коммерческое предложение" in card.button_texts  # "↩ Вернуть на этап «…»" would be cut
    await chat.click(MARIA, "↩ Коммерческое", message_id=card.message_id)
    reopened = await chat.message(MARIA, card.message_id)
    assert "Возвращена в работу на этап «Коммерческое предложение»" in reopened.text
    assert (await crm.deals.get(deal_id=deal.id, actor=maria)).stage.name == "Commercial offer"


async def test_forward_then_straight_back_keeps_a_stalled_deal_stalled(chat: EmulatedChat, crm: Crm) -> None:
    """8 days in Opportunity and stale: ▶ then ◀ undoes the move, the card still says so."""
    ali = await crm.users.identify(ALI)
    eight_days_ago = datetime.now(UTC) - timedelta(days=8)
    deal = await crm_at(crm, eight_days_ago).deals.create(
        actor=ali, title="Quiet school", amount="900", stage="Opportunity"
    )
    card = await open_card(chat, deal.title)
    assert "8 days in stage" in card.text and "needs a follow-up" in card.text
    await press_on_card(chat, card, "Commercial offer ▶")
    back = await press_on_card(chat, card, "◀ Opportunity")
    assert "2/7 Opportunity · 8 days in stage ⏳ needs a follow-up" in back.text, back.text
    reloaded = await crm.deals.get(deal_id=deal.id, actor=ali)
    assert reloaded.stage_entered_at == deal.stage_entered_at
    history = await press_on_card(chat, card, "History")
    assert "back to Opportunity, the last move undone" in history.text


async def test_winning_a_deal_ends_its_tasks(chat: EmulatedChat, crm: Crm) -> None:
    ali = await crm.users.identify(ALI)
    deal = await alis_deal(crm, title="Boiler room", stage="Execution")
    await crm.tasks.add(
        deal_id=deal.id, due_at=datetime.now(UTC) + timedelta(hours=3), text="Send the invoice", actor=ali
    )
    card = await open_card(chat, deal.title)
    assert "Send the invoice" in card.text
    won = await press_on_card(chat, card, "🏆 Won")
    assert "Send the invoice" not in won.text
    await chat.send(ALI, "/tasks")
    assert "Nothing planned" in (await chat.last(ALI)).text
    reopened = await press_on_card(chat, card, "↩ Reopen in Execution")
    assert "Send the invoice" not in reopened.text  # reopening does not bring it back
    history = await press_on_card(chat, card, "History")
    assert "cancelled with the deal: Send the invoice" in history.text


async def test_a_deal_lost_for_another_reason_keeps_the_typed_words(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    await press_on_card(chat, card, "Lost")
    await chat.click(ALI, "Other", message_id=card.message_id)  # asks in the card's message
    assert "Why was it lost? A few words" in (await chat.last(ALI)).text
    await chat.send(ALI, "Went with   the cousin's firm")
    redrawn = await chat.message(ALI, card.message_id)
    assert "Reason: Other: Went with the cousin's firm" in redrawn.text
    assert "Marked as lost" in (await chat.last(ALI)).text
    reloaded = await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(ALI))
    assert reloaded.stage.name == "Lost"
    assert (reloaded.lost_reason, reloaded.lost_note) == ("Other", "Went with the cousin's firm")


async def test_the_history_shows_every_step(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    await press_on_card(
        chat, card, "Opportunity ▶", "Move to…", "Execution", "🏆 Won", "↩ Reopen in Execution"
    )
    await press_on_card(chat, card, "Lost", "Price")
    history = await press_on_card(chat, card, "History")
    lines = history.text.splitlines()
    expected = [
        "reopened in Execution",  # newest first
        "won",
        "moved to Execution",
        "moved to Opportunity",
        "created in Unsorted",
    ]
    assert "lost: Price" in lines[1], lines
    steps = [line for line in lines[2:] if "·" in line]
    assert [s.rsplit(": ", 1)[-1] for s in steps] == expected, lines
    events = await crm.deals.history(deal_id=deal.id, actor=await crm.users.identify(ALI))
    assert [e.kind for e in events] == [
        EventKind.CREATED,
        EventKind.MOVED,
        EventKind.MOVED,
        EventKind.WON,
        EventKind.REOPENED,
        EventKind.LOST,
    ]
    back = await press_on_card(chat, card, "Back to the card")
    assert "Reason: Price" in back.text


async def test_a_note_is_saved_in_the_history(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    await chat.click(ALI, "Note", message_id=card.message_id)
    assert "Write the note" in (await chat.last(ALI)).text
    await chat.send(ALI, "Wants a quote by Friday")
    saved = await chat.last(ALI)
    assert "Note saved" in saved.text and "📝 Wants a quote by Friday" in saved.text  # the latest note
    history = await press_on_card(chat, card, "History")
    assert "📝 Wants a quote by Friday" in history.text
    events = await crm.deals.history(deal_id=deal.id, actor=await crm.users.identify(ALI))
    assert events[-1].kind is EventKind.NOTE and events[-1].data["text"] == "Wants a quote by Friday"


async def test_a_reminder_from_the_quick_options(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    # next Monday 09:00 is a working hour whatever day the test runs (one outside them is offered for
    # the next working morning first: test_working_hours)
    after = await press_on_card(chat, card, "Remind", "Something else", "Next Monday")
    assert "I'll remind you" in after.text and "09:00: Reminder." in after.text
    [task] = await crm.tasks.open_tasks(actor=await crm.users.identify(ALI))
    assert task.deal_id == deal.id and task.due_at.weekday() == 0 and task.due_at.hour == 9


async def test_a_typed_reminder_time_and_nonsense_asked_again(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    await press_on_card(chat, card, "Remind")
    await chat.click(ALI, "Call", message_id=card.message_id)  # asks in the card's message
    assert "When?" in (await chat.last(ALI)).text
    await chat.send(ALI, "when pigs fly")
    again = await chat.last(ALI)
    assert "I couldn't read that time" in again.text and "When?" in again.text
    await chat.send(ALI, "monday 10:00")  # a working hour whenever the test runs
    assert "I'll remind you" in (await chat.last(ALI)).text
    [task] = await crm.tasks.open_tasks(actor=await crm.users.identify(ALI))
    assert task.deal_id == deal.id


async def test_editing_title_amount_phone_and_priority(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    await press_on_card(chat, card, "Edit")
    await chat.click(ALI, "Title", message_id=card.message_id)  # asks in the card's message
    assert "New title? Now: Heat pump for the gym" in (await chat.last(ALI)).text
    await chat.send(ALI, "Two heat pumps for the gym")
    assert "Saved" in (await chat.last(ALI)).text
    await press_on_card(chat, card, "Edit", "Amount")
    await chat.send(ALI, "lots")
    retry = await chat.last(ALI)
    assert "That amount doesn't work" in retry.text and "Try again" in retry.text
    await chat.send(ALI, "24 500")
    assert "24,500" in (await chat.last(ALI)).text
    await press_on_card(chat, card, "Edit", "Phone")
    await chat.send(ALI, "8 (912) 345-67-89")
    assert "+7 912 345-67-89" in (await chat.last(ALI)).text
    await press_on_card(chat, card, "Edit", "Priority")
    await chat.click(ALI, "high")
    last = await chat.last(ALI)
    assert last.text.startswith("🔥") and "priority: high" in last.text
    reloaded = await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(ALI))
    assert reloaded.title == "Two heat pumps for the gym" and str(reloaded.amount) == "24500.00"
    assert reloaded.contact is not None and reloaded.contact.phone == "+79123456789"
    assert reloaded.priority.value == "high"


async def test_a_press_that_takes_long_is_answered_early_and_its_card_redrawn_when_done(
    chat: EmulatedChat, crm: Crm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram takes no answer to a press older than ~15 s: a slow one says "one moment" first."""
    deal = await alis_deal(crm, "Slow to move", stage="Opportunity")
    card = await open_card(chat, "Slow to move")
    monkeypatch.setattr(perform, "PRESS_PATIENCE_S", 0.3)
    move_next = DealService.move_next

    async def slow_move_next(self: DealService, **kwargs: Any) -> Deal:
        await asyncio.sleep(1.5)
        return await move_next(self, **kwargs)

    monkeypatch.setattr(DealService, "move_next", slow_move_next)
    query = await chat.click(ALI, "▶", message_id=card.message_id)
    answer = await chat.answer(query)
    assert answer is not None and "Working on it" in answer["text"], answer
    redrawn = await chat.message(ALI, card.message_id)
    assert "Moved to Commercial offer" in redrawn.text, redrawn.text
    assert await stage_of(crm, deal) == "Commercial offer"
