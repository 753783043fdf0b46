"""Who sees what: a seller never reaches a colleague's deal, not even with forged buttons; a boss sees all."""

from __future__ import annotations

from crm_core.domain.deals import Deal
from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, MARIA, EmulatedChat, b36

REFUSALS = ("not found", "no longer works", "not allowed")


async def alis_deal(crm: Crm) -> Deal:
    ali = await crm.users.identify(ALI)
    return await crm.deals.create(
        actor=ali, title="Ali's chiller", contact_name="Rustam", phone="+79161112233", amount="9000"
    )


async def test_a_seller_does_not_see_a_colleagues_deal_anywhere(chat: EmulatedChat, crm: Crm) -> None:
    deal = await alis_deal(crm)
    await crm.deals.move(deal_id=deal.id, to_stage="Opportunity", actor=await crm.users.identify(ALI))
    await chat.send(MARIA, "/lang en")
    await chat.send(MARIA, "/board")
    board = await chat.last(MARIA)
    assert "0 open" in board.text and any(t.endswith("Opportunity · 0") for t in board.button_texts)
    await chat.click(MARIA, "Opportunity")
    assert "No deals here" in (await chat.last(MARIA)).text
    await chat.send(MARIA, "/deals")
    assert "No open deals" in (await chat.last(MARIA)).text
    for query in (
        "/find chiller",
        "/find +7 916 111-22-33",
        "/find 2233",
        "chiller",
        "Rustam",
        "89161112233",
    ):
        await chat.send(MARIA, query)
        found = await chat.last(MARIA)
        assert "Nothing found" in found.text and "Ali's chiller" not in " ".join(found.button_texts), query
    await chat.send(ALI, "/find 2233")
    assert any("Ali's chiller" in t for t in (await chat.last(ALI)).button_texts)


def forgeries(deal: Deal) -> list[str]:
    """Button data a modified client could send about someone else's deal, and plain garbage."""
    d, v = b36(deal.id), deal.version
    return [
        f"1nx:{d}:{v}",
        f"1pv:{d}:{v}",
        f"1won:{d}:{v}",
        f"1ls:{d}:{v}:0",
        f"1lsm:{d}:{v}",
        f"1mv:{d}:{v}:{b36(7)}",
        f"1cd:{d}",
        f"1hs:{d}:0",
        f"1tk:{d}:{v}",
        f"1nt:{d}:{v}",
        f"1ed:{d}:{v}:title",
        f"1rm:{d}:{v}:1h",
        f"1pr:{d}:{v}:high",
        f"1ra:{d}:{v}:{b36(3)}",
        f"1ram:{d}:{v}",
        "1nx:" + "z" * 13 + ":1",
        "1nx:-1:1",
        "1cd",
        "\x00\x01\x02\ufffd\u202e",
        "x" * 65,
        "1nx:" + "9" * 61,
        "💥" * 16,
    ]


async def test_forged_presses_on_a_colleagues_deal_change_nothing_and_are_answered(
    chat: EmulatedChat, crm: Crm
) -> None:
    deal = await alis_deal(crm)
    await chat.send(MARIA, "/lang en")
    message_id = (await chat.last(MARIA)).message_id
    for data in forgeries(deal):
        told = await chat.told(MARIA, await chat.press_data(MARIA, message_id, data))
        assert any(word in told for word in REFUSALS), (data, told)
        assert await crm.dialogs.get(MARIA) is None, data  # no note or edit question was opened
    assert all("chiller" not in m.text for m in await chat.bot_messages(MARIA))
    now = await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(ALI))
    assert (now.version, now.stage.name, now.owner_id) == (deal.version, "Unsorted", deal.owner_id)
    assert len(await crm.deals.history(deal_id=deal.id, actor=await crm.users.identify(ALI))) == 1
    assert await chat.refusals() == []


async def test_a_boss_sees_every_deal_and_reassigns_one_the_new_owner_is_told(
    chat: EmulatedChat, crm: Crm
) -> None:
    deal = await alis_deal(crm)
    await chat.send(BOSS, "/board")
    board = await chat.last(BOSS)
    assert "all deals" in board.text and any(t.endswith("Unsorted · 1 · ₽9,000") for t in board.button_texts)
    await chat.click(BOSS, "Unsorted")
    assert any("Ali's chiller" in t and "Ali" in t for t in (await chat.last(BOSS)).button_texts)
    await chat.click(BOSS, "Ali's chiller")
    card = await chat.last(BOSS)
    await chat.click(BOSS, "⋯ More", message_id=card.message_id)
    await chat.click(BOSS, "Reassign", message_id=card.message_id)
    await chat.click(BOSS, "Maria", message_id=card.message_id)
    assert "Given to Maria" in (await chat.message(BOSS, card.message_id)).text
    moved = await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(BOSS))
    assert moved.owner is not None and moved.owner.telegram_id == MARIA

    async def maria_was_told() -> bool:
        return any("Olga gave you this deal" in m.text for m in await chat.bot_messages(MARIA))

    await chat.wait_until(maria_was_told, what="Maria's notification")
    [told] = [m for m in await chat.bot_messages(MARIA) if "chiller" in m.text]
    assert "Ali's chiller" in told.text
    await chat.send(ALI, "/deals")
    assert "No open deals" in (await chat.last(ALI)).text
