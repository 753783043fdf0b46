"""The board and its columns: counts and sums, eight deals a page, the order toggle, stale marks, taking."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, MARIA, EmulatedChat, Msg, crm_at, visible


async def twenty_deals(crm: Crm) -> None:
    """Ali's 20 deals entering "Opportunity" a minute apart (Deal 01 first); two more in the offer stage."""
    ali = await crm.users.identify(ALI)
    start = datetime.now(UTC) - timedelta(hours=1)
    for i in range(1, 21):
        past = crm_at(crm, start + timedelta(minutes=i))
        await past.deals.create(
            actor=ali, title=f"Deal {i:02}", amount=Decimal(1000 * i), stage="Opportunity"
        )
    for title in ("Offer A", "Offer B"):
        await crm.deals.create(actor=ali, title=title, amount="500", stage="Commercial offer")


def titles(msg: Msg) -> list[str]:
    return [m.group(0) for t in msg.button_texts if (m := re.match(r"Deal \d\d", visible(t)))]


def numbered(*numbers: int) -> list[str]:
    return [f"Deal {n:02}" for n in numbers]


async def test_the_board_shows_each_stage_with_its_count_and_sum(chat: EmulatedChat, crm: Crm) -> None:
    await twenty_deals(crm)
    await chat.send(ALI, "/board")
    board = await chat.last(ALI)
    assert "22 open · ₽211,000" in board.text
    assert any(t.endswith("Opportunity · 20 · ₽210,000") for t in board.button_texts), board.button_texts
    assert any(t.endswith("Commercial offer · 2 · ₽1,000") for t in board.button_texts)
    assert any(t.endswith("Unsorted · 0") for t in board.button_texts)
    await chat.send(MARIA, "/lang en")  # her Telegram speaks Russian
    await chat.send(MARIA, "/board")
    assert any(t.endswith("Opportunity · 0") for t in (await chat.last(MARIA)).button_texts)


async def test_a_column_pages_eight_deals_at_a_time_newest_in_the_stage_first(
    chat: EmulatedChat, crm: Crm
) -> None:
    await twenty_deals(crm)
    await chat.send(ALI, "/board")
    await chat.click(ALI, "Opportunity")
    column = await chat.last(ALI)
    assert "Opportunity" in column.text and "20 deals" in column.text
    assert titles(column) == numbered(*range(20, 12, -1))
    assert not any(t == "◀" for t in column.button_texts)
    await chat.click(ALI, "▶")
    assert titles(await chat.last(ALI)) == numbered(*range(12, 4, -1))
    await chat.click(ALI, "▶")
    last_page = await chat.last(ALI)
    assert titles(last_page) == numbered(4, 3, 2, 1)
    assert "▶" not in last_page.button_texts
    await chat.click(ALI, "◀")
    assert titles(await chat.last(ALI)) == numbered(*range(12, 4, -1))
    await chat.click(ALI, "◀")
    first_again = await chat.last(ALI)
    assert titles(first_again) == numbered(*range(20, 12, -1))
    assert first_again.message_id == column.message_id and first_again.edited


async def test_the_waiting_longest_toggle_reverses_the_order(chat: EmulatedChat, crm: Crm) -> None:
    await twenty_deals(crm)
    await chat.send(ALI, "/board")
    await chat.click(ALI, "Opportunity")
    await chat.click(ALI, "Waiting longest")
    waiting = await chat.last(ALI)
    assert titles(waiting) == numbered(*range(1, 9))
    await chat.click(ALI, "▶")
    assert titles(await chat.last(ALI)) == numbered(*range(9, 17))
    await chat.click(ALI, "◀")
    assert titles(await chat.last(ALI)) == numbered(*range(1, 9))
    await chat.click(ALI, "Newest first")
    assert titles(await chat.last(ALI)) == numbered(*range(20, 12, -1))


async def test_a_deal_past_its_stages_follow_up_is_marked_stale(chat: EmulatedChat, crm: Crm) -> None:
    ali = await crm.users.identify(ALI)
    four_days_ago = crm_at(crm, datetime.now(UTC) - timedelta(days=4))
    await four_days_ago.deals.create(actor=ali, title="Forgotten boiler", stage="Opportunity")
    await crm.deals.create(actor=ali, title="Fresh boiler", stage="Opportunity")
    await chat.send(ALI, "/board")
    await chat.click(ALI, "Opportunity")
    labels = [visible(t) for t in (await chat.last(ALI)).button_texts]
    assert any(t.startswith("⏳ Forgotten boiler") for t in labels), labels
    assert any(t.startswith("Fresh boiler") for t in labels), labels
    await chat.click(ALI, "Forgotten boiler")
    assert "needs a follow-up" in (await chat.last(ALI)).text
    await chat.send(ALI, "/deals")
    deals = await chat.last(ALI)
    assert "1 needs a follow-up" in deals.text
    assert visible(deals.button_texts[0]).startswith("⏳ Forgotten boiler")


async def test_a_seller_takes_an_unassigned_deal_from_the_inbox(chat: EmulatedChat, crm: Crm) -> None:
    boss = await crm.users.identify(BOSS)
    deal = await crm.deals.create(actor=boss, title="Walk-in customer")
    await crm.deals.reassign(deal_id=deal.id, owner_telegram_id=None, actor=boss)
    await chat.send(ALI, "/board")
    await chat.click(ALI, "Unsorted")
    column = await chat.last(ALI)
    assert "Walk-in customer" in " ".join(column.button_texts)
    await chat.click(ALI, "Take")
    card = await chat.last(ALI)
    assert "The deal is yours now" in card.text and "Ali" in card.text
    taken = await crm.deals.get(deal_id=deal.id, actor=boss)
    assert taken.owner is not None and taken.owner.telegram_id == ALI
    await chat.send(MARIA, "/lang en")
    await chat.send(MARIA, "/board")
    await chat.click(MARIA, "Unsorted")
    assert "Walk-in customer" not in " ".join((await chat.last(MARIA)).button_texts)


async def test_an_unassigned_deals_card_offers_a_seller_only_to_take_it(chat: EmulatedChat, crm: Crm) -> None:
    boss = await crm.users.identify(BOSS)
    deal = await crm.deals.create(actor=boss, title="Walk-in customer")
    await crm.deals.reassign(deal_id=deal.id, owner_telegram_id=None, actor=boss)
    await chat.send(MARIA, "/lang en")
    await chat.send(MARIA, "/board")
    await chat.click(MARIA, "Unsorted")
    await chat.click(MARIA, "Walk-in customer")
    card = await chat.last(MARIA)
    assert "nobody yet" in card.text
    assert any("Take this deal" in t for t in card.button_texts)
    assert not any("Won" in t for t in card.button_texts)
    await chat.click(MARIA, "Take this deal")
    assert "The deal is yours now" in (await chat.last(MARIA)).text
    taken = await crm.deals.get(deal_id=deal.id, actor=boss)
    assert taken.owner is not None and taken.owner.telegram_id == MARIA
