"""Every seller is reachable: a newcomer invited in the chat gets an extension and a time zone from
the boss there, and the calls to that extension pop up in their chat."""

from __future__ import annotations

from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, EmulatedChat, RunningKanbot, b36
from tests.e2e.test_calls import post_call, said_to
from tests.e2e.test_joining import invite_link

NADIA = 3001


async def test_a_seller_invited_and_given_an_extension_in_the_chat_gets_the_pop_up_of_its_calls(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    code = await invite_link(chat)
    await chat.user(NADIA, "Nadia")
    await chat.send(NADIA, f"/start {code}")
    await said_to(chat, BOSS, "Nadia joined the team as a seller")
    await chat.click(BOSS, "Nadia's page")
    await chat.click(BOSS, "Extensions…")
    await chat.send(BOSS, "101")
    assert "Extension 101 already belongs to Ali" in (await chat.last(BOSS)).text
    await chat.send(BOSS, "105")
    page = await chat.last(BOSS)
    assert "Nadia" in page.text and "Extensions: 105" in page.text
    await post_call(kanbot, call_id="c-nadia", rang=["105"], answered_by="105")
    card = await said_to(chat, NADIA, "New customer on the line")
    assert "+7 495 123-45-67" in card.text
    nadia = await crm.users.identify(NADIA)
    assert nadia.extensions == ("105",)
    assert (await crm.users.identify(ALI)).extensions == ("101",)


async def test_an_invitation_carries_an_extension_and_time_zones_are_set_by_the_boss_and_in_settings(
    chat: EmulatedChat, crm: Crm
) -> None:
    await chat.send(BOSS, "/invite")
    await chat.send(BOSS, "107")
    assert "They get the extension 107" in (await chat.last(BOSS)).text
    await chat.click(BOSS, "Seller")
    code = (await chat.last(BOSS)).text.split("?start=")[1].split()[0]
    await chat.user(NADIA, "Nadia", "ru")
    await chat.send(NADIA, f"/start {code}")
    told = await said_to(chat, BOSS, "Nadia joined the team as a seller")
    assert "Extensions: 107" in told.text
    await chat.click(BOSS, "Nadia's page")
    await chat.click(BOSS, "Time zone…")
    await chat.click(BOSS, "Yekaterinburg")  # a Russian speaker is offered Russia's zones
    assert "Time zone: Yekaterinburg" in (await chat.last(BOSS)).text
    assert (await crm.users.identify(NADIA)).timezone == "Asia/Yekaterinburg"
    await chat.send(NADIA, "/settings")
    await chat.click(NADIA, "🕒")
    await chat.send(NADIA, "Новосибирск")
    assert "Новосибирск" in (await chat.last(NADIA)).text
    await chat.click(NADIA, "☀️")
    await chat.click(NADIA, "08:30")
    assert "08:30" in (await chat.last(NADIA)).text
    nadia = await crm.users.identify(NADIA)
    assert (nadia.timezone, nadia.extensions) == ("Asia/Novosibirsk", ("107",))
    prefs = await crm.followups.preferences(actor=nadia)
    assert (prefs.morning_plan_enabled, prefs.morning_time) == (True, "08:30")
    ali = await crm.users.identify(ALI)
    forged = await chat.press_data(NADIA, (await chat.last(NADIA)).message_id, f"1zs:{b36(ali.id)}:UTC:s")
    assert (await chat.answer(forged) or {}).get("text")  # refused: a seller sets only their own zone
    assert (await crm.users.identify(ALI)).timezone == ali.timezone
