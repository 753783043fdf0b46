"""Getting into the team: an invitation link works once and only while fresh; strangers get nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from crm_core.domain.users import Role
from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, BOT_USERNAME, STRANGER, EmulatedChat, b36, crm_at

NEWCOMER, LATECOMER = 3001, 3002


async def invite_link(chat: EmulatedChat, role_button: str = "Seller") -> str:
    await chat.send(BOSS, "/invite")
    await chat.click(BOSS, role_button)
    found = re.search(r"https://t\.me/(\S+)\?start=(\S+)", (await chat.last(BOSS)).text)
    assert found, (await chat.last(BOSS)).text
    assert found.group(1) == BOT_USERNAME
    return found.group(2)


async def test_a_newcomer_joins_as_a_seller_with_the_link_the_boss_made(chat: EmulatedChat, crm: Crm) -> None:
    code = await invite_link(chat)
    await chat.user(NEWCOMER, "Nadia")
    await chat.send(NEWCOMER, f"/start {code}")
    welcome = await chat.last(NEWCOMER)
    assert "Hi, Nadia" in welcome.text and "seller" in welcome.text
    assert any("New deal" in label for label in await chat.keyboard(NEWCOMER))
    nadia = await crm.users.by_telegram_id(NEWCOMER)
    assert nadia is not None and nadia.role is Role.SELLER and nadia.active


async def test_an_invitation_used_once_is_refused_to_the_next_stranger(chat: EmulatedChat, crm: Crm) -> None:
    code = await invite_link(chat)
    await chat.user(NEWCOMER, "Nadia")
    await chat.send(NEWCOMER, f"/start {code}")
    await chat.user(LATECOMER, "Boris")
    await chat.send(LATECOMER, f"/start {code}")
    assert "expired or was already used" in (await chat.last(LATECOMER)).text
    assert await crm.users.by_telegram_id(LATECOMER) is None


async def test_an_expired_invitation_is_refused(chat: EmulatedChat, crm: Crm) -> None:
    boss = await crm.users.identify(BOSS)
    eight_days_ago = datetime.now(UTC) - timedelta(days=8)
    invite = await crm_at(crm, eight_days_ago).invites.create(role=Role.SELLER, actor=boss)
    await chat.user(NEWCOMER, "Nadia")
    await chat.send(NEWCOMER, f"/start {invite.code}")
    assert "expired or was already used" in (await chat.last(NEWCOMER)).text
    assert await crm.users.by_telegram_id(NEWCOMER) is None


async def test_a_made_up_invitation_code_is_refused(chat: EmulatedChat, crm: Crm) -> None:
    await chat.send(STRANGER, "/start " + "x" * 80)
    assert "expired or was already used" in (await chat.last(STRANGER)).text
    assert await crm.users.by_telegram_id(STRANGER) is None


async def test_a_stranger_is_politely_refused_with_their_telegram_id_whatever_they_try(
    chat: EmulatedChat, crm: Crm
) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="Ali's secret deal")
    for text in ("hello", "/start", "/deals", "/board", "/new", "/team", "/report", "Ali's secret"):
        assert chat.let_time_pass is not None  # a stranger gets one reply in ten seconds
        chat.let_time_pass(timedelta(seconds=11))
        before = len(await chat.bot_messages(STRANGER))
        await chat.send(STRANGER, text)
        refusal = await chat.last(STRANGER)
        assert len(await chat.bot_messages(STRANGER)) == before + 1, text
        assert "private sales CRM" in refusal.text and str(STRANGER) in refusal.text, text
        assert "secret" not in refusal.text
    message_id = (await chat.last(STRANGER)).message_id
    for data in (f"1nx:{b36(deal.id)}:{deal.version}", f"1cd:{b36(deal.id)}", "1bd:0", "garbage"):
        query = await chat.press_data(STRANGER, message_id, data)
        answer = await chat.answer(query)
        assert answer is not None and "private sales CRM" in (answer["text"] or ""), data
    assert all("secret" not in m.text for m in await chat.bot_messages(STRANGER))
    assert (await crm.deals.get(deal_id=deal.id, actor=ali)).version == deal.version
    assert await crm.users.by_telegram_id(STRANGER) is None


async def test_a_boss_invitation_makes_a_boss_with_the_bosses_menu(chat: EmulatedChat, crm: Crm) -> None:
    code = await invite_link(chat, "Boss")
    await chat.user(NEWCOMER, "Nadia")
    await chat.send(NEWCOMER, f"/start {code}")
    assert "boss" in (await chat.last(NEWCOMER)).text
    assert any("Team" in label for label in await chat.keyboard(NEWCOMER))
    nadia = await crm.users.by_telegram_id(NEWCOMER)
    assert nadia is not None and nadia.role is Role.BOSS


async def test_a_member_opening_an_invitation_leaves_it_for_the_newcomer(
    chat: EmulatedChat, crm: Crm
) -> None:
    code = await invite_link(chat)
    await chat.send(ALI, f"/start {code}")
    assert "already in the team" in " ".join(m.text for m in await chat.bot_messages(ALI))
    await chat.user(NEWCOMER, "Nadia")
    await chat.send(NEWCOMER, f"/start {code}")
    assert "Hi, Nadia" in (await chat.last(NEWCOMER)).text
    ali = await crm.users.by_telegram_id(ALI)
    assert ali is not None and ali.role is Role.SELLER
