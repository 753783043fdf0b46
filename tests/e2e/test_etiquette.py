"""Manners: in a group the bot says once where it works, then keeps quiet; a flooding user is slowed down."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.harness import ALI, BOSS, BOT_USERNAME, STRANGER, EmulatedChat, RunningKanbot

SLOW_DOWN = "going a bit fast"


async def test_in_a_group_the_bot_says_once_that_it_works_in_private_and_stays_quiet(
    chat: EmulatedChat,
) -> None:
    group = await chat.group("Sales team")
    assert await chat.send_in(group, ALI, "/deals") is not None
    [notice] = await chat.bot_messages(group)
    assert "private chat only" in notice.text
    await chat.send_in(group, BOSS, "/board")
    await chat.send_in(group, STRANGER, f"/report@{BOT_USERNAME}")
    await chat.send_in(group, ALI, f"@{BOT_USERNAME} show me the board")
    assert await chat.send_in(group, ALI, "anyone seen the ACME contract?") is None  # privacy mode
    assert len(await chat.bot_messages(group)) == 1
    assert await chat.bot_messages(ALI) == [] and await chat.bot_messages(BOSS) == []
    assert await chat.refusals() == []


async def test_a_flooding_user_is_told_once_to_slow_down_and_ignored_for_a_while(
    chat: EmulatedChat, kanbot: RunningKanbot
) -> None:
    chat.pacing = False  # this user really floods
    await chat.limits(enforce=False)  # the bot's own replies to the flood are not what is tested here
    kanbot.let_time_pass(timedelta(seconds=11 - kanbot.now().timestamp() % 10))  # a second past a 10 s mark
    for _ in range(20):
        await chat.send(ALI, "/help", wait=False)
    await chat.wait()
    assert len(await chat.bot_messages(ALI)) == 20
    await chat.send(ALI, "/help")
    assert SLOW_DOWN in (await chat.last(ALI)).text
    said = len(await chat.bot_messages(ALI))
    kanbot.let_time_pass(timedelta(seconds=10.3 - kanbot.now().timestamp() % 10))  # past the next 10 s mark
    for text in ("/help", "/deals", "hello?") * 3:
        await chat.send(ALI, text, wait=False)
    await chat.wait()
    assert len(await chat.bot_messages(ALI)) == said  # ignored, and not told twice
    kanbot.let_time_pass(timedelta(seconds=11))  # a short while later
    await chat.send(ALI, "/help")
    assert "What I can do" in (await chat.last(ALI)).text


async def test_a_button_pressed_while_flooding_is_answered_with_the_slow_down(
    chat: EmulatedChat, kanbot: RunningKanbot
) -> None:
    chat.pacing = False
    await chat.send(ALI, "/lang")
    for _ in range(19):
        await chat.send(ALI, "/help")
    query = await chat.click(ALI, "English")
    answer = await chat.answer(query)
    assert answer is not None and SLOW_DOWN in (answer["text"] or "")
    assert not any(SLOW_DOWN in m.text for m in await chat.bot_messages(ALI))


async def test_a_mistyped_command_gets_the_list_of_what_the_bot_can_do(chat: EmulatedChat) -> None:
    await chat.send(ALI, "/dela")
    reply = await chat.last(ALI)
    assert "I don't know that command" in reply.text and "/deals" in reply.text
    await chat.send(ALI, f"/help@{BOT_USERNAME}")
    assert "What I can do" in (await chat.last(ALI)).text
