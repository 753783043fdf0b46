"""On a phone, in every language: list buttons never cut a number, a card has at most three buttons a row
and nothing cut, a typed answer leaves one live card per deal, and /tasks reads one task at a time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.widths import too_wide
from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, EmulatedChat, Msg, visible

LONG = "Oxford Lettings: SIP trunk, 20 channels and a second site in Reading"


def label_rows(msg: Msg) -> list[list[str]]:
    return [[visible(b["text"]) for b in row] for row in msg.buttons]


async def card_of(chat: EmulatedChat, user: int, title: str) -> Msg:
    await chat.send(user, f"/find {title.split()[0]}")
    await chat.click(user, title.split()[0])
    return await chat.last(user)


async def test_deal_lists_keep_amounts_whole_and_titles_to_whole_words(chat: EmulatedChat, crm: Crm) -> None:
    ali = await crm.users.identify(ALI)
    await crm.deals.create(actor=ali, title=LONG, amount="18082.60", stage="Commercial offer")
    await crm.deals.create(actor=ali, title="Wayne Foods: annual support", amount="7572.5")
    await chat.send(ALI, "/deals")
    deals = await chat.last(ALI)
    rows = label_rows(deals)
    assert too_wide(rows) == [], rows
    labels = [label for row in rows for label in row]
    long = next(label for label in labels if label.startswith("Oxford"))
    assert "₽18,082.60" in long, long  # the amount whole, the title cut after a word
    shown = long.split(" · ")[0].removesuffix("…")
    assert LONG.startswith(shown) and LONG[len(shown)] in " ,:", long
    assert "Commercial offer" in long or "Commercial offer" in deals.text  # the stage: button or text
    assert any("₽7,572.50" in label for label in labels)
    await chat.send(ALI, "/find Oxford")
    found = await chat.last(ALI)
    assert too_wide(label_rows(found)) == [] and "₽18,082.60" in found.button_texts[0]


@pytest.mark.parametrize("locale", ["en", "ru", "ar"])
async def test_a_card_has_at_most_three_buttons_a_row_and_none_cut(
    chat: EmulatedChat, crm: Crm, locale: str
) -> None:
    boss = await crm.users.identify(BOSS)
    await crm.users.update_preferences(actor=boss, locale=locale)
    await crm.deals.create(actor=boss, title="Boiler house", amount="900", stage="Execution")
    card = await card_of(chat, BOSS, "Boiler house")
    rows = label_rows(card)
    assert all(len(row) <= 3 for row in rows) and too_wide(rows) == [], rows
    labels = " ".join(card.button_texts)
    assert "▶" not in labels  # the next stage is Won: "🏆 Won" says it, no "Won ▶" beside it
    assert "🏆" in labels and "⋯" in labels
    await chat.click(BOSS, "⋯", message_id=card.message_id)
    more = label_rows(await chat.message(BOSS, card.message_id))
    assert all(len(row) <= 3 for row in more) and too_wide(more) == [], more
    assert any("👥" in label for row in more for label in row)  # the boss's Reassign, whole


async def test_typed_answers_leave_one_live_card_per_deal(chat: EmulatedChat, crm: Crm) -> None:
    ali = await crm.users.identify(ALI)
    await crm.deals.create(actor=ali, title="Heat pump", amount="12000", stage="Opportunity")
    card = await card_of(chat, ALI, "Heat pump")
    before = len(await chat.bot_messages(ALI))
    await chat.click(ALI, "Note", message_id=card.message_id)
    await chat.send(ALI, "Wants it before winter")
    await chat.click(ALI, "Remind", message_id=card.message_id)
    await chat.click(ALI, "Call", message_id=card.message_id)
    await chat.send(ALI, "sometime")  # asked again, in the same message
    await chat.send(ALI, "monday 10:00")  # a working hour whenever the test runs
    await chat.click(ALI, "⋯ More", message_id=card.message_id)
    await chat.click(ALI, "Edit", message_id=card.message_id)
    await chat.click(ALI, "Amount", message_id=card.message_id)
    await chat.send(ALI, "15 000")
    await chat.click(ALI, "Lost", message_id=card.message_id)
    await chat.click(ALI, "Other", message_id=card.message_id)
    await chat.send(ALI, "Went with a cheaper boiler")
    assert len(await chat.bot_messages(ALI)) == before  # no question left behind, no copy of the card
    live = await chat.message(ALI, card.message_id)
    assert "Marked as lost" in live.text and "Went with a cheaper boiler" in live.text
    assert "Wants it before winter" in live.text  # the latest note, on the card
    await chat.click(ALI, "⋯ More", message_id=card.message_id)
    await chat.click(ALI, "History", message_id=card.message_id)
    history = (await chat.message(ALI, card.message_id)).text
    assert "₽12,000 → ₽15,000" in history, history  # formatted, not "12000.00"


async def test_tasks_read_one_task_at_a_time_with_its_actions_under_it(chat: EmulatedChat, crm: Crm) -> None:
    ali = await crm.users.identify(ALI)
    soon = datetime.now(UTC) + timedelta(hours=2)
    for n, title in enumerate(("ACME order", "Boiler house", "Cold store")):
        deal = await crm.deals.create(actor=ali, title=title)
        await crm.tasks.add(
            deal_id=deal.id, due_at=soon + timedelta(hours=n), text=f"Call {title}", actor=ali
        )
    await chat.send(ALI, "/tasks")
    tasks = await chat.last(ALI)
    rows = label_rows(tasks)
    assert not any(re.fullmatch(r"\W*\d+", label.strip()) for row in rows for label in row), rows
    assert too_wide(rows) == [] and all(len(row) <= 3 for row in rows)
    assert "ACME order" in tasks.text and "Call ACME order" in rows[0][0]
    assert [label.split()[0] for label in rows[1]] == ["✅", "💤", "🌅"]  # its actions, right under it
    await chat.click(ALI, "✅", message_id=tasks.message_id)
    after = label_rows(await chat.message(ALI, tasks.message_id))
    assert "Call Boiler house" in after[0][0]  # the next task reads the same; nothing renumbered
    assert len(await crm.tasks.open_tasks(actor=ali)) == 2


async def test_a_card_opened_from_a_list_goes_back_to_the_same_page(chat: EmulatedChat, crm: Crm) -> None:
    ali = await crm.users.identify(ALI)
    for n in range(1, 11):
        await crm.deals.create(actor=ali, title=f"Deal {n:02}", amount=str(100 * n))
    await chat.send(ALI, "/deals")
    await chat.click(ALI, "▶")
    page = await chat.last(ALI)
    second = [visible(t) for t in page.button_texts if "Deal" in t]
    await chat.click(ALI, second[0].split(" · ")[0], message_id=page.message_id)
    card = await chat.message(ALI, page.message_id)
    assert "#" in card.text and "⬅ Back to the list" in card.button_texts
    await chat.click(ALI, "⋯ More", message_id=card.message_id)
    await chat.click(ALI, "⬅ Back", message_id=card.message_id)  # from More, back to the card…
    await chat.click(ALI, "⬅ Back to the list", message_id=card.message_id)  # …and to the list's page
    back = await chat.message(ALI, card.message_id)
    assert [visible(t) for t in back.button_texts if "Deal" in t] == second
    await chat.send(ALI, "/board")
    await chat.click(ALI, "Unsorted")
    assert "⬅ Board" in (await chat.last(ALI)).button_texts
