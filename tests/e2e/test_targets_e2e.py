"""A boss sets a seller's monthly target from /team, and sees it in /report and in the digest; the
seller sees their own."""

from __future__ import annotations

from datetime import UTC, datetime

from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, MARIA, EmulatedChat


def this_month() -> str:
    """The month as the English chat names it (the team's time zone is UTC here)."""
    return datetime.now(UTC).strftime("%B %Y")


async def alis_month(crm: Crm) -> None:
    """Ali won a deal of 300 this month and has one of 1000 at the offer (35 %); Maria lost one."""
    ali, maria = await crm.users.identify(ALI), await crm.users.identify(MARIA)
    won = await crm.deals.create(actor=ali, title="Won one", amount="300", stage="Opportunity")
    await crm.deals.mark_won(deal_id=won.id, actor=ali)
    await crm.deals.create(actor=ali, title="At the offer", amount="1000", stage="Commercial offer")
    lost = await crm.deals.create(actor=maria, title="Lost one", amount="50", stage="Opportunity")
    await crm.deals.mark_lost(deal_id=lost.id, reason="Price", actor=maria)


async def test_a_boss_sets_a_target_from_team_and_sees_it_in_the_report_and_the_digest(
    chat: EmulatedChat, crm: Crm
) -> None:
    await alis_month(crm)
    await chat.send(BOSS, "/team")
    team = await chat.last(BOSS)
    await chat.click(BOSS, "Ali", message_id=team.message_id)
    await chat.click(BOSS, "Target", message_id=team.message_id)
    asked = await chat.message(BOSS, team.message_id)
    assert f"Type Ali's target for {this_month()}" in asked.text
    await chat.send(BOSS, "a lot")
    assert "That amount doesn't work" in (await chat.last(BOSS)).text
    await chat.send(BOSS, "1 000")
    assert "How many deals should Ali win?" in (await chat.last(BOSS)).text
    await chat.send(BOSS, "0")
    assert "a whole number from 1" in (await chat.last(BOSS)).text
    await chat.send(BOSS, "2")
    assert f"✅ Target for {this_month()}: ₽1,000 · 2 deals" in (await chat.last(BOSS)).text
    boss = await crm.users.identify(BOSS)
    [target] = await crm.targets.list_targets(actor=boss)
    assert (target.seller.name, str(target.target.amount), target.target.deals) == ("Ali", "1000.00", 2)

    await chat.send(BOSS, "/report")
    report = (await chat.last(BOSS)).text
    assert f"🎯 Targets — {this_month()}" in report
    ali_line = "Ali: ▰▰▰▱▱▱▱▱▱▱ 30% · ₽300 of ₽1,000 · forecast ₽650 · deals 1/2"
    assert ali_line in report
    assert "Maria: no target · won ₽0 · forecast ₽0" in report
    assert "🏆 Won: 1 · ₽300 · 🚫 Lost: 1 · win rate 50%" in report

    await chat.send(ALI, "/report")
    own = (await chat.last(ALI)).text
    assert ali_line in own and "Maria" not in own

    await chat.send(BOSS, "/digest")
    digest = "\n".join(m.text for m in await chat.bot_messages(BOSS) if "digest" in m.text)
    assert f"🎯 Targets — {this_month()}" in digest and ali_line in digest
    assert "The team: ▰▰▰▱▱▱▱▱▱▱ 30% · ₽300 of ₽1,000" in digest
    assert "Summary — 30 days" in digest and "Average won deal: ₽300" in digest


async def test_a_target_for_next_month_without_a_number_of_deals(chat: EmulatedChat, crm: Crm) -> None:
    await chat.send(BOSS, "/team")
    team = await chat.last(BOSS)
    await chat.click(BOSS, "Maria", message_id=team.message_id)
    await chat.click(BOSS, "Target", message_id=team.message_id)
    await chat.click(BOSS, "Next month", message_id=team.message_id)
    boss = await crm.users.identify(BOSS)
    month = crm.targets.current_month()
    following = f"{int(month[:4]) + int(month[5:]) // 12}-{int(month[5:]) % 12 + 1:02d}"
    await chat.send(BOSS, "250k")
    await chat.click(BOSS, "Skip")
    assert "✅ Target for" in (await chat.last(BOSS)).text and "deals" not in (await chat.last(BOSS)).text
    [target] = await crm.targets.list_targets(actor=boss)
    assert (target.seller.name, target.target.month, str(target.target.amount), target.target.deals) == (
        "Maria",
        following,
        "250000.00",
        None,
    )


async def test_a_seller_cannot_set_a_target_even_with_a_made_up_button(chat: EmulatedChat, crm: Crm) -> None:
    await chat.send(ALI, "/report")
    message_id = (await chat.last(ALI)).message_id
    for data in ("1tga:2:0", "1tga:3:1", "1tgs:1"):
        query = await chat.press_data(ALI, message_id, data)
        answer = await chat.answer(query)
        assert answer is not None and (
            "not allowed" in (answer["text"] or "") or "out of date" in (answer["text"] or "")
        ), (data, answer)
    assert await crm.targets.list_targets(actor=await crm.users.identify(BOSS)) == []
