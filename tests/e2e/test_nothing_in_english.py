"""Nothing is left in English in a Russian or an Arabic chat: a seller walks every everyday screen —
the menu, help, lists, the board, a card and its menus, Remind (kinds, time, words), a snooze, history,
/tasks with a call-back and a reminder, the morning plan, settings, a new deal — and no text or button
holds an English sentence (two English words in a row), beyond the seller's own data and names."""

from __future__ import annotations

import re

import pytest

from bot.core.i18n import Tr
from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from crm_core.services import Crm
from tests.e2e.harness import ALI, EmulatedChat, Msg, RunningKanbot
from tests.e2e.test_followups_e2e import a_message

ENGLISH = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,'’-]+[A-Za-z][a-z]+)+\b")
# Not sentences: the bot's name, time zones (IANA names) and commands.
ALLOWED = re.compile(r"Kanbot|[A-Z][a-z]+/[A-Za-z_]+|/[a-z_]+")
TITLES = {"ru": "Котёл для школы", "ar": "غلاية للمدرسة"}
WORDS = {"ru": "про счёт", "ar": "بخصوص الفاتورة"}


def english_in(screen: str) -> list[str]:
    return ENGLISH.findall(ALLOWED.sub(" ", screen))


class Walk:
    """What the seller saw on the way, screen by screen."""

    def __init__(self, chat: EmulatedChat) -> None:
        self.chat = chat
        self.seen: list[tuple[str, str]] = []

    def look(self, where: str, msg: Msg) -> None:
        self.seen.append((where, msg.text + "\n" + "\n".join(msg.button_texts)))

    async def send(self, text: str) -> Msg:
        await self.chat.send(ALI, text)
        msg = await self.chat.last(ALI)
        self.look(text, msg)
        return msg

    async def press(self, label: str, on: Msg) -> Msg:
        await self.chat.click(ALI, label, message_id=on.message_id)
        msg = await self.chat.message(ALI, on.message_id)
        self.look(label, msg)
        return msg

    def english(self) -> list[tuple[str, list[str]]]:
        return [(where, found) for where, screen in self.seen if (found := english_in(screen))]


async def a_missed_call(crm: Crm, kanbot: RunningKanbot) -> None:
    """The customer's missed call: a call-back task on the deal."""
    now = kanbot.now()
    await crm.calls.ingest_call(
        CallEvent(
            call_id="missed-1",
            provider="test",
            direction=CallDirection.INBOUND,
            status=CallStatus.MISSED,
            caller="+74951234567",
            dialed="+74950000000",
            started_at=now,
            rang=("101",),
            ended_at=now,
        )
    )


@pytest.mark.parametrize("locale", ["ru", "ar"])
async def test_no_english_sentence_on_any_everyday_screen(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot, locale: str
) -> None:
    ali = await crm.users.identify(ALI)
    await crm.deals.create(
        actor=ali, title=TITLES[locale], phone="+74951234567", amount="1500", stage="Opportunity"
    )
    await a_missed_call(crm, kanbot)
    await chat.send(ALI, f"/lang {locale}")
    assert kanbot.kanbot is not None
    kanbot.kanbot.delivery.wake.set()
    await a_message(chat, ALI, "123-45-67")  # the missed call's notice is in, before the walk
    walk = Walk(chat)
    for command in ("/start", "/help", "/deals", "/board", "/settings", "/find", "/cancel", "/morning"):
        await walk.send(command)
    card = await walk.send(TITLES[locale].split()[0])
    card = await walk.press(TITLES[locale].split()[0], card)
    kinds = await walk.press("⏰", card)
    when = await walk.press("📞", kinds)
    await walk.press("✏️", when)
    await chat.send(ALI, WORDS[locale])
    walk.look("words", await chat.message(ALI, card.message_id))
    next_monday = Tr(locale).label("Next Monday")  # a working morning whenever the test runs
    await walk.press(next_monday, await chat.message(ALI, card.message_id))
    more = await walk.press("⋯", card)
    await walk.press("💤", more)
    await walk.press(Tr(locale).label("Back to the card"), card)
    more = await walk.press("⋯", card)
    await walk.press("📜", more)
    await walk.press(Tr(locale).label("Back to the card"), card)
    await walk.press("🚫", card)
    await walk.send("/tasks")
    await walk.send("/new")
    await walk.send("/cancel")
    assert len(walk.seen) >= 20
    assert walk.english() == []
