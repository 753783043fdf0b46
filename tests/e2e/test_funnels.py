"""Several funnels in the chat: /new and the board ask which one (the last used first), the card names
its funnel and moves a deal to another, /report switches funnel; with one funnel none of it shows."""

from __future__ import annotations

from crm_core.domain.deals import Deal
from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, EmulatedChat, Msg, visible
from tests.support.funnels import two_funnels


def labels(msg: Msg) -> list[str]:
    """The message's button labels as a person reads them (a funnel's name is isolated for direction)."""
    return [visible(t) for t in msg.button_texts]


async def alis_deal(crm: Crm, title: str = "Boiler service for the school") -> Deal:
    return await crm.deals.create(
        actor=await crm.users.identify(ALI), title=title, amount="9000", stage="Opportunity"
    )


async def open_card(chat: EmulatedChat, title: str) -> Msg:
    await chat.send(ALI, f"/find {title}")
    await chat.click(ALI, title)
    return await chat.last(ALI)


async def test_with_one_funnel_nothing_asks_for_or_names_a_funnel(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm)
    await chat.send(ALI, "/board")
    board = await chat.last(ALI)
    assert "Which funnel?" not in visible(board.text) and "🧭" not in visible(board.text)
    assert not any("🧭" in t for t in labels(board)), labels(board)
    await chat.send(ALI, "/new")
    assert "What is the deal?" in visible((await chat.last(ALI)).text)
    await chat.send(ALI, "/cancel")
    card = await open_card(chat, deal.title)
    assert "🧭" not in visible(card.text)
    await chat.click(ALI, "⋯ More", message_id=card.message_id)
    await chat.click(ALI, "Move to…", message_id=card.message_id)
    moves = await chat.message(ALI, card.message_id)
    assert not any("funnel" in t for t in labels(moves)), labels(moves)
    await chat.send(BOSS, "/report")
    report = await chat.last(BOSS)
    assert "🧭" not in visible(report.text) and not any("🧭" in t or "Sales" in t for t in labels(report))


async def test_a_deal_is_created_in_the_second_funnel_from_new(chat: EmulatedChat, crm: Crm) -> None:
    _sales, renewals = await two_funnels(crm)
    await chat.send(ALI, "/new")
    asked = await chat.last(ALI)
    assert "In which funnel?" in visible(asked.text)
    assert [t for t in labels(asked) if "Sales" in t or "Renewals" in t] == ["🧭 Sales", "🧭 Renewals"]
    assert all(len(row) <= 3 for row in asked.buttons)
    await chat.click(ALI, "Renewals")
    assert "What is the deal?" in visible((await chat.last(ALI)).text)
    await chat.send(ALI, "Support contract 2027")
    for _ in range(3):
        await chat.click(ALI, "Skip")
    summary = await chat.last(ALI)
    assert "🧭 Renewals" in visible(summary.text) and "Support contract 2027" in visible(summary.text)
    await chat.click(ALI, "Create")
    card = await chat.last(ALI)
    assert (
        "Deal created" in visible(card.text)
        and "🧭 Renewals" in visible(card.text)
        and "Due" in visible(card.text)
    )
    [deal] = await crm.deals.list_deals(actor=await crm.users.identify(ALI))
    assert deal.pipeline_id == renewals.id and deal.stage.name == "Due"
    await chat.send(ALI, "/new")  # the funnel last used comes first now
    again = await chat.last(ALI)
    assert [t for t in labels(again) if "🧭" in t] == ["🧭 Renewals", "🧭 Sales"]


async def test_new_with_a_title_asks_the_funnel_then_goes_on_to_the_contact(
    chat: EmulatedChat, crm: Crm
) -> None:
    sales, _ = await two_funnels(crm)
    await chat.send(ALI, "/new Heat pump for the gym")
    assert "In which funnel?" in visible((await chat.last(ALI)).text)
    await chat.send(ALI, "Sales please")  # typed instead of pressed: explained, asked again
    again = await chat.last(ALI)
    assert "⚠️" in visible(again.text) and "In which funnel?" in visible(again.text)
    await chat.click(ALI, "Sales")
    assert "Who is the customer?" in visible((await chat.last(ALI)).text)
    for _ in range(3):
        await chat.click(ALI, "Skip")
    await chat.click(ALI, "Create")
    [deal] = await crm.deals.list_deals(actor=await crm.users.identify(ALI))
    assert deal.title == "Heat pump for the gym" and deal.pipeline_id == sales.id


async def test_the_card_names_its_funnel_and_moves_the_deal_to_the_other_one(
    chat: EmulatedChat, crm: Crm
) -> None:
    _sales, renewals = await two_funnels(crm)
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    assert "🧭 Sales" in visible(card.text)
    await chat.click(ALI, "⋯ More", message_id=card.message_id)
    await chat.click(ALI, "Move to…", message_id=card.message_id)
    await chat.click(ALI, "Another funnel…", message_id=card.message_id)
    funnels = await chat.message(ALI, card.message_id)
    assert "Move to which funnel?" in visible(funnels.text)
    assert [t for t in labels(funnels) if "🧭" in t] == ["🧭 Renewals"]  # not the deal's own
    await chat.click(ALI, "Renewals", message_id=card.message_id)
    stages = await chat.message(ALI, card.message_id)
    assert "🧭 Renewals" in visible(stages.text)
    assert {"Due", "Talk"} <= {t.split(" ", 1)[-1] for t in labels(stages)}
    assert not any("Renewed" in t or "Churned" in t for t in labels(stages))
    await chat.click(ALI, "Talk", message_id=card.message_id)
    moved = await chat.message(ALI, card.message_id)
    assert moved.edited and "🧭 Renewals" in visible(moved.text) and "Talk" in visible(moved.text), moved.text
    ali = await crm.users.identify(ALI)
    now = await crm.deals.get(deal_id=deal.id, actor=ali)
    assert now.pipeline_id == renewals.id and now.stage.name == "Talk"
    await chat.click(ALI, "⋯ More", message_id=card.message_id)
    await chat.click(ALI, "History", message_id=card.message_id)
    history = await chat.message(ALI, card.message_id)
    assert "moved from the Sales funnel to Renewals, Talk" in visible(history.text), history.text


async def test_a_stage_of_another_funnel_pressed_on_an_old_card_is_out_of_date(
    chat: EmulatedChat, crm: Crm
) -> None:
    _, renewals = await two_funnels(crm)
    deal = await alis_deal(crm)
    card = await open_card(chat, deal.title)
    await chat.click(ALI, "⋯ More", message_id=card.message_id)
    await chat.click(ALI, "Move to…", message_id=card.message_id)
    await chat.click(ALI, "Another funnel…", message_id=card.message_id)
    await chat.click(ALI, "Renewals", message_id=card.message_id)
    ali = await crm.users.identify(ALI)
    await crm.deals.edit(deal_id=deal.id, field="title", value="Boiler service, two schools", actor=ali)
    query = await chat.click(ALI, "Talk", message_id=card.message_id)
    assert "out of date" in await chat.told(ALI, query)
    redrawn = await chat.message(ALI, card.message_id)
    assert "Boiler service, two schools" in visible(redrawn.text) and "🧭 Sales" in visible(redrawn.text)
    now = await crm.deals.get(deal_id=deal.id, actor=ali)
    assert now.pipeline_id != renewals.id and now.stage.name == "Opportunity"


async def test_the_board_asks_the_funnel_names_it_and_switches(chat: EmulatedChat, crm: Crm) -> None:
    await two_funnels(crm)
    await alis_deal(crm)
    await chat.send(ALI, "/board")
    asked = await chat.last(ALI)
    assert "Which funnel?" in visible(asked.text)
    await chat.click(ALI, "Renewals")
    board = await chat.last(ALI)
    assert "🧭 Renewals" in visible(board.text) and any("Due" in t for t in labels(board))
    assert not any("Opportunity" in t for t in labels(board))
    await chat.click(ALI, "Sales", message_id=board.message_id)  # the other funnel, a press away
    board = await chat.message(ALI, board.message_id)
    assert "🧭 Sales" in visible(board.text) and any("Opportunity · 1" in t for t in labels(board))
    await chat.click(ALI, "Opportunity", message_id=board.message_id)
    await chat.click(ALI, "Board", message_id=board.message_id)  # back to the same funnel's board
    assert "🧭 Sales" in visible((await chat.message(ALI, board.message_id)).text)


async def test_report_shows_one_funnel_and_switches_to_the_other(chat: EmulatedChat, crm: Crm) -> None:
    await two_funnels(crm)
    await alis_deal(crm)
    await chat.send(BOSS, "/report")
    report = await chat.last(BOSS)
    assert "🧭 Sales" in visible(report.text) and "Opportunity: 1" in visible(report.text)
    assert "• Sales" in labels(report) and "🧭 Renewals" in labels(report)
    await chat.click(BOSS, "Renewals", message_id=report.message_id)
    switched = await chat.message(BOSS, report.message_id)
    assert (
        "🧭 Renewals" in visible(switched.text)
        and "Talk: 0" in visible(switched.text)
        and "Opportunity" not in visible(switched.text)
    )
    assert "• Renewals" in labels(switched)
    await chat.click(BOSS, "7 days", message_id=report.message_id)  # the period keeps the funnel
    assert "🧭 Renewals" in visible((await chat.message(BOSS, report.message_id)).text)


async def test_in_arabic_the_funnel_is_asked_in_arabic_and_its_latin_name_kept_whole(
    chat: EmulatedChat, crm: Crm
) -> None:
    await two_funnels(crm)
    await crm.users.update_preferences(actor=await crm.users.identify(ALI), locale="ar")
    await chat.send(ALI, "/new")
    asked = await chat.last(ALI)
    assert "في أي مسار مبيعات؟" in asked.text
    assert "🧭 \u2068Renewals\u2069" in asked.button_texts  # isolated: laid out whole in right-to-left text
    await chat.click(ALI, "Renewals")
    await chat.send(ALI, "عقد الدعم 2027")
    for _ in range(3):
        await chat.click(ALI, "⏭")
    await chat.click(ALI, "✅")
    card = await chat.last(ALI)
    assert "🧭 \u2068Renewals\u2069" in card.text and "Due" in card.text
