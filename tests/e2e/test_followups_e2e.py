"""Follow-ups through the chat: a reminder's buttons (snooze with a reason, next stage, lower priority),
the boss's escalation and nudge, the digest with its chart, and the outbox riding out Telegram's errors.

The scene is set in the past and ticked by hand at a Monday working hour; the running bot delivers what
the tick queued, as it would after the scheduler's tick. Its own scheduler is slowed to once an hour so
it cannot tick in between.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.widths import too_wide
from crm_core.domain.deals import Deal, Priority
from crm_core.domain.history import EventKind
from crm_core.domain.users import Role, User
from crm_core.services import Crm
from telegram_emulator import Emulator
from tests.e2e.harness import (
    ALI,
    BOSS,
    MARIA,
    EmulatedChat,
    Msg,
    RunningKanbot,
    crm_at,
    kanbot_ticked_by_hand,
    visible,
)

HOUR = timedelta(hours=1)


def monday_morning() -> datetime:
    """Ten o'clock UTC on last week's Monday: a working hour safely in the bot's past."""
    now = datetime.now(UTC)
    return (now - timedelta(days=now.weekday() + 7)).replace(hour=10, minute=0, second=0, microsecond=0)


@pytest.fixture
async def kanbot(crm: Crm, database_url: str, emulator: Emulator) -> AsyncIterator[RunningKanbot]:
    async with kanbot_ticked_by_hand(database_url, emulator.url) as running:
        yield running


async def stale_deal(crm: Crm, owner: int, title: str, at: datetime) -> Deal:
    """A deal in Unsorted since three hours before ``at``: stale (its follow-up is two hours) at ``at``."""
    seller = await crm.users.identify(owner)
    return await crm_at(crm, at - 3 * HOUR).deals.create(actor=seller, title=title)


async def plan_seen(crm: Crm, telegram_id: int, at: datetime) -> None:
    """The seller saw the day's morning plan before ``at`` (/morning): a tick then sends a reminder on its
    own, not inside the plan (test_morning_e2e shows the plan taking it in)."""
    seller = await crm.users.identify(telegram_id)
    await crm_at(crm, at).followups.morning_plan_shown(actor=seller)


async def tick(crm: Crm, kanbot: RunningKanbot, at: datetime, *, digest: bool = False) -> None:
    """The scheduler's tick at ``at``; the bot is woken to deliver what it queued."""
    followups = crm_at(crm, at).followups
    await (followups.digest_tick(at) if digest else followups.tick(at))
    assert kanbot.kanbot is not None
    kanbot.kanbot.delivery.wake.set()


async def a_message(chat: EmulatedChat, user: int, text: str, *, count: int = 1) -> list[Msg]:
    """Wait until the bot has sent ``user`` ``count`` messages containing ``text``; those messages."""

    async def found() -> list[Msg]:
        return [m for m in await chat.bot_messages(user) if text in m.text]

    async def enough() -> bool:
        return len(await found()) >= count

    await chat.wait_until(enough, timeout_s=20, what=f"{text!r} in {user}'s chat")
    return await found()


async def delivered(chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot) -> None:
    """Wait until the outbox is empty, letting time pass for the retries' backoff."""

    async def empty() -> bool:
        kanbot.let_time_pass(timedelta(seconds=20))
        assert kanbot.kanbot is not None
        kanbot.kanbot.delivery.wake.set()
        async with crm.db.uow(write=False) as uow:
            stats = await uow.outbox.stats(now=kanbot.now())
        return bool(stats["pending"] == 0)

    await chat.wait_until(empty, timeout_s=60, what="the outbox to empty")
    await chat.wait()


async def shown(chat: EmulatedChat, user: int) -> set[tuple[int, str]]:
    return {(m.message_id, m.text) for m in await chat.bot_messages(user)}


async def changed(chat: EmulatedChat, user: int, before: set[tuple[int, str]]) -> list[str]:
    """The texts of the messages sent or edited since ``before`` (a notice from the outbox may come
    in between, so the reply is not necessarily the newest message)."""
    return [m.text for m in await chat.bot_messages(user) if (m.message_id, m.text) not in before]


async def deal_now(crm: Crm, deal: Deal, actor: User) -> Deal:
    return await crm.deals.get(deal_id=deal.id, actor=actor)


# -- the reminder's buttons ------------------------------------------------------------------------


async def test_a_seller_snoozes_a_reminded_deal_for_three_days_with_a_reason(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    monday = monday_morning()
    deal = await stale_deal(crm, ALI, "ACME order", monday)
    await plan_seen(crm, ALI, monday)
    await tick(crm, kanbot, monday)
    [reminder] = await a_message(chat, ALI, "This deal has sat in Unsorted")
    assert "ACME order" in reminder.text and "Snooze" in " ".join(reminder.button_texts)
    await chat.click(ALI, "Snooze", message_id=reminder.message_id)
    assert "Snooze for how long?" in (await chat.message(ALI, reminder.message_id)).text
    before = await shown(chat, ALI)
    await chat.click(ALI, "3 days", message_id=reminder.message_id)
    assert any("Why?" in text for text in await changed(chat, ALI, before))
    before = await shown(chat, ALI)
    await chat.send(ALI, "Customer is on holiday")
    assert any("Snoozed until" in text for text in await changed(chat, ALI, before))
    ali = await crm.users.identify(ALI)
    snoozed = await deal_now(crm, deal, ali)
    assert snoozed.snoozed_until is not None and snoozed.snoozed_until > kanbot.now() + 2 * timedelta(days=1)
    last = (await crm.deals.history(deal_id=deal.id, actor=ali))[-1]
    assert (last.kind, last.data["reason"]) == (EventKind.SNOOZED, "Customer is on holiday")
    said = len(await chat.bot_messages(ALI))
    # Later that day, the next morning (a new plan whatever the hour the test runs at), and now.
    for later in (monday + HOUR, monday + 5 * HOUR, monday + 24 * HOUR, kanbot.now()):
        await tick(crm, kanbot, later)
    await delivered(chat, crm, kanbot)
    news = [m.text for m in (await chat.bot_messages(ALI))[said:]]
    assert news and all(t.startswith("☀️ Good morning, Ali") for t in news)  # the ticks' morning plans only


async def test_next_stage_on_a_reminder_moves_the_deal_on(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    monday = monday_morning()
    deal = await stale_deal(crm, ALI, "Moves on", monday)
    await plan_seen(crm, ALI, monday)
    await tick(crm, kanbot, monday)
    [reminder] = await a_message(chat, ALI, "This deal has sat in Unsorted")
    await chat.click(ALI, "Opportunity ▶", message_id=reminder.message_id)
    moved = await deal_now(crm, deal, await crm.users.identify(ALI))
    assert moved.stage.name == "Opportunity" and not moved.is_stale(kanbot.now())
    assert "Opportunity" in (await chat.last(ALI)).text


async def test_lower_priority_on_a_reminder_lowers_it(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    monday = monday_morning()
    deal = await stale_deal(crm, ALI, "Not urgent", monday)
    await plan_seen(crm, ALI, monday)
    await tick(crm, kanbot, monday)
    [reminder] = await a_message(chat, ALI, "This deal has sat in Unsorted")
    await chat.click(ALI, "Lower priority", message_id=reminder.message_id)
    assert (await deal_now(crm, deal, await crm.users.identify(ALI))).priority is Priority.LOW
    assert "Priority lowered." in (await chat.last(ALI)).text


async def test_several_stale_deals_come_in_one_reminder_that_opens_each(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    monday = monday_morning()
    for title in ("First lead", "Second lead", "Third lead"):
        await stale_deal(crm, ALI, title, monday)
    await plan_seen(crm, ALI, monday)
    await tick(crm, kanbot, monday)
    [reminder] = await a_message(chat, ALI, "3 deals need a follow-up")
    assert all(t in reminder.text for t in ("First lead", "Second lead", "Third lead"))
    await chat.click(ALI, "Second lead", message_id=reminder.message_id)
    assert "Second lead" in (await chat.last(ALI)).text


# -- escalation and nudge ------------------------------------------------------------------------------


async def test_the_boss_nudges_the_seller_from_an_escalation_and_the_seller_gets_the_deal(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    monday = monday_morning()
    await stale_deal(crm, ALI, "Forgotten order", monday)
    await plan_seen(crm, ALI, monday)
    await tick(crm, kanbot, monday)
    await a_message(chat, ALI, "This deal has sat in Unsorted")
    await tick(crm, kanbot, monday + 2 * HOUR)  # still stale a follow-up after the reminder
    [escalation] = await a_message(chat, BOSS, "Still stale after a reminder")
    assert "Forgotten order" in escalation.text and "Ali" in escalation.text
    query = await chat.click(BOSS, "Nudge Ali", message_id=escalation.message_id)
    answer = await chat.answer(query)
    assert answer is not None and "Ali has been nudged." in answer["text"]
    [nudge] = await a_message(chat, ALI, "Olga asks you to follow up on this deal")
    assert "Forgotten order" in nudge.text and "Snooze" in " ".join(nudge.button_texts)
    await tick(crm, kanbot, monday + 6 * HOUR)
    await delivered(chat, crm, kanbot)  # what that tick queued has been sent
    assert len(await a_message(chat, BOSS, "Still stale after a reminder")) == 1  # never twice


async def test_a_nudge_button_shows_a_sellers_name_with_html_characters_as_typed(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    name, seller = "R&D <Sales>", 2003
    await chat.user(seller, "Rnd", "en")
    await crm.users.add(telegram_id=seller, name=name, role=Role.SELLER)
    monday = monday_morning()
    await stale_deal(crm, seller, "Lab order", monday)
    await plan_seen(crm, seller, monday)
    await tick(crm, kanbot, monday)
    await a_message(chat, seller, "This deal has sat in Unsorted")
    await tick(crm, kanbot, monday + 2 * HOUR)
    [escalation] = await a_message(chat, BOSS, "Still stale after a reminder")
    assert "R&D <Sales>" in escalation.text  # the message's HTML shows it right
    assert "📣 Nudge R&D <Sales>" in escalation.button_texts, escalation.button_texts
    query = await chat.click(BOSS, "Nudge R&D", message_id=escalation.message_id)
    answer = await chat.answer(query)
    assert answer is not None and "R&D <Sales> has been nudged." in answer["text"]


# -- the digest ----------------------------------------------------------------------------------------


async def photo_bytes(chat: EmulatedChat, message: Msg) -> bytes:
    assert message.photo is not None
    async with chat.http.get(message.photo) as response:
        assert response.status == 200
        return await response.read()


async def test_the_boss_gets_the_digest_text_and_its_loss_chart_as_a_photo(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    monday = monday_morning()
    for title in ("Chart one", "Chart two"):
        await stale_deal(crm, ALI, title, monday)
    await stale_deal(crm, MARIA, "Chart three", monday)
    await tick(crm, kanbot, monday, digest=True)
    [text] = await a_message(chat, BOSS, "Weekly digest")  # a Monday's
    assert "Unsorted: 3" in text.text and "Ali: 2 · 0 · 0 · 2" in text.text
    [photo] = await a_message(chat, BOSS, "deals lost there")
    assert (await photo_bytes(chat, photo)).startswith(b"\x89PNG")
    assert photo.message_id > text.message_id


async def test_slash_digest_shows_the_digest_now_with_the_chart(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await stale_deal(crm, ALI, "Asked for", kanbot.now())
    await chat.send(BOSS, "/digest")
    messages = await chat.bot_messages(BOSS)
    assert "Daily digest" in messages[-2].text and "Unsorted: 1" in messages[-2].text
    assert (await photo_bytes(chat, messages[-1])).startswith(b"\x89PNG")
    await chat.click(BOSS, "Digest time: 09:00")
    await chat.click(BOSS, "18:00")
    assert "The digest comes at 18:00." in (await chat.last(BOSS)).text
    boss = await crm.users.identify(BOSS)
    assert (await crm.followups.preferences(actor=boss)).digest_time == "18:00"


async def test_the_digests_stale_deals_keep_their_titles_to_whole_words_and_a_phone_number_whole(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    await stale_deal(crm, ALI, "+7 495 452-18-24", kanbot.now())
    await stale_deal(crm, MARIA, "Клиники «Аврора»: IP-телефоны на 4 площадки", kanbot.now())
    await chat.send(BOSS, "/digest")
    [text] = [m for m in await chat.bot_messages(BOSS) if "Daily digest" in m.text]
    rows = [[visible(b["text"]) for b in row] for row in text.buttons]
    assert too_wide(rows) == [], rows
    labels = [label for row in rows for label in row]
    assert "📣 +7 495 452-18-24" in labels, labels  # the number whole, on a row of its own
    assert ["📣 Клиники…", "👥 Reassign"] in rows, rows  # the title cut after a word, beside Reassign


async def test_a_seller_stops_the_morning_plan_and_slash_morning_brings_it_back_once(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    monday = monday_morning()
    await tick(crm, kanbot, monday)
    [plan] = await a_message(chat, ALI, "Good morning, Ali")
    await chat.click(ALI, "Stop the morning plan", message_id=plan.message_id)
    assert "No more morning plans" in (await chat.last(ALI)).text
    await tick(crm, kanbot, monday + timedelta(days=1))  # Tuesday: none
    await delivered(chat, crm, kanbot)
    assert len(await a_message(chat, ALI, "Good morning, Ali")) == 1
    await chat.send(ALI, "/morning")  # shown now, and on again
    assert len(await a_message(chat, ALI, "Good morning, Ali")) == 2
    prefs = await crm.followups.preferences(actor=await crm.users.identify(ALI))
    assert prefs.morning_plan_enabled
    assert (
        prefs.last_morning_on == kanbot.now().date().isoformat()
    )  # today's is given: no tick sends it again


# -- Telegram failing --------------------------------------------------------------------------------------


async def test_what_is_due_waits_out_telegrams_errors_and_goes_out_once_each(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot
) -> None:
    monday = monday_morning()
    await stale_deal(crm, ALI, "Ali's lead", monday)
    await stale_deal(crm, MARIA, "Maria's lead", monday)
    await chat.faults("sendMessage", 502, count=5)
    await chat.faults("sendPhoto", 500, count=2)
    await chat.faults("sendMessage", 429, count=2, retry_after=1)
    await tick(crm, kanbot, monday)
    await tick(crm, kanbot, monday, digest=True)

    await delivered(chat, crm, kanbot)
    for user, title in ((ALI, "Ali's lead"), (MARIA, "Maria's lead")):
        [plan] = await a_message(chat, user, "Good morning")  # the reminder in it: one message each
        assert title in plan.text and len(await chat.bot_messages(user)) == 1
    assert len(await a_message(chat, BOSS, "Weekly digest")) == 1
    assert len(await a_message(chat, BOSS, "deals lost there")) == 1
    async with crm.db.uow(write=False) as uow:
        stats = await uow.outbox.stats(now=kanbot.now())
    assert (stats["failed"], stats["dead"]) == (0, 0)
    failures = [e["status"] for e in await chat.log() if e["status"] >= 429]
    assert sorted(failures) == [429, 429, 500, 500, 502, 502, 502, 502, 502]
