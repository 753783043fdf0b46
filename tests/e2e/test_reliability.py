"""Telegram failing: updates delivered twice, a restart mid-dialog, 429s and a restart mid-outbox."""

from __future__ import annotations

from datetime import UTC, datetime

from crm_core.domain.history import EventKind
from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, MARIA, EmulatedChat, RunningKanbot

SEEN = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery", "sendPhoto"}


async def bot_calls(chat: EmulatedChat) -> list[str]:
    """The Bot API calls a user could see the bot make."""
    return [e["method"] for e in await chat.log() if e["method"] in SEEN]


async def test_a_won_press_delivered_twice_is_handled_once(chat: EmulatedChat, crm: Crm) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="Double click", stage="Execution")
    await chat.send(ALI, "/find Double click")
    await chat.click(ALI, "Double click")
    await chat.click(ALI, "🏆 Won")
    won_press = chat.last_update_id
    assert won_press is not None
    calls = await bot_calls(chat)
    await chat.redeliver(won_press)
    assert await bot_calls(chat) == calls  # no second answer, edit or message
    events = await crm.deals.history(deal_id=deal.id, actor=ali)
    assert [e.kind for e in events].count(EventKind.WON) == 1
    assert (await crm.deals.get(deal_id=deal.id, actor=ali)).version == deal.version + 1


async def test_a_title_delivered_twice_is_taken_once(chat: EmulatedChat, crm: Crm) -> None:
    await chat.send(ALI, "/new")
    title = await chat.send(ALI, "Twice told title")
    said = len(await chat.bot_messages(ALI))
    await chat.redeliver(title)
    assert len(await chat.bot_messages(ALI)) == said
    dialog = await crm.dialogs.get(ALI)
    assert dialog is not None and dialog.step == "contact" and dialog.data == {"title": "Twice told title"}
    await chat.send(ALI, "Nina")  # the answer to the contact question, not a second title
    assert "Their phone number?" in (await chat.last(ALI)).text


async def test_a_create_press_delivered_twice_makes_one_deal_even_after_a_restart(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await chat.send(ALI, "/new Created once")
    for _ in range(3):
        await chat.click(ALI, "Skip")
    await chat.click(ALI, "Create")
    create = chat.last_update_id
    assert create is not None
    await chat.redeliver(create)
    await kanbot.restart()
    calls = await bot_calls(chat)
    await chat.redeliver(create)
    assert await bot_calls(chat) == calls
    deals = await crm.deals.list_deals(actor=await crm.users.identify(ALI))
    assert [d.title for d in deals] == ["Created once"]
    assert len(await crm.deals.history(deal_id=deals[0].id, actor=await crm.users.identify(ALI))) == 1


async def test_a_restart_in_the_middle_of_new_continues_where_it_stopped(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await chat.send(ALI, "/new")
    await chat.send(ALI, "Survives a restart")
    await chat.send(ALI, "Oleg")
    await chat.send(ALI, "+7 495 765-43-21")
    assert "The amount?" in (await chat.last(ALI)).text
    await kanbot.restart()
    await chat.send(ALI, "7 700")
    summary = await chat.last(ALI)
    assert "Survives a restart" in summary.text and "Oleg" in summary.text and "7,700" in summary.text
    await chat.click(ALI, "Create")
    assert "Deal created" in (await chat.last(ALI)).text
    [deal] = await crm.deals.list_deals(actor=await crm.users.identify(ALI))
    assert deal.title == "Survives a restart" and str(deal.amount) == "7700.00"
    assert deal.contact is not None and deal.contact.phone == "+74957654321"


async def test_the_outbox_survives_429s_and_a_restart_sending_each_notification_once(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    boss = await crm.users.identify(BOSS)
    titles = [f"Handed over {i}" for i in range(5)]
    deals = [await crm.deals.create(actor=boss, title=t) for t in titles]
    await chat.faults("sendMessage", 429, count=2, retry_after=1)
    for i, deal in enumerate(deals):  # the boss hands them out: each new owner is notified
        await crm.deals.reassign(deal_id=deal.id, owner_telegram_id=ALI if i % 2 else MARIA, actor=boss)

    async def arrived() -> list[str]:
        texts = [m.text for user in (ALI, MARIA) for m in await chat.bot_messages(user)]
        return [t for title in titles for t in texts if title in t]

    async def some_arrived() -> bool:
        return len(await arrived()) >= 1

    async def all_arrived() -> bool:
        return len(await arrived()) >= len(titles)

    await chat.wait_until(some_arrived, what="the first notification")
    await kanbot.restart()
    await chat.wait_until(all_arrived, timeout_s=30, what="every notification")
    await chat.wait()
    for title in titles:
        assert sum(title in t for t in await arrived()) == 1, title
    refused = [e for e in await chat.log("sendMessage") if e["status"] == 429]
    assert len(refused) == 2

    async def outbox_stats() -> dict[str, int]:
        async with crm.db.uow(write=False) as uow:
            return dict(await uow.outbox.stats(now=datetime.now(UTC)))

    async def all_marked_sent() -> bool:  # a message's "sent" mark is written just after Telegram took it
        return (await outbox_stats())["sent"] >= len(titles)

    await chat.wait_until(all_marked_sent, what="every notification marked sent")
    stats = await outbox_stats()
    assert (stats["sent"], stats["pending"], stats["failed"], stats["dead"]) == (5, 0, 0, 0)
