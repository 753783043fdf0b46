"""The outbox delivery on the real database (both backends), sending through a fake Telegram."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.core.context import ChatSettings
from bot.core.notify import Notifier
from bot.core.perform import Failure, TransportError
from bot.core.views import SendAudio, SendPhoto, View
from bot.delivery import Limits, OutboxDelivery
from crm_core.adapters.tables import outbox
from crm_core.domain.notifications import CallUnknown, Notification
from crm_core.domain.phones import pretty as pretty_phone
from crm_core.domain.users import User
from crm_core.ports import SystemClock
from crm_core.services import Crm
from tests.integration.support import Team

FAST = Limits(per_second=1000.0, per_chat_interval_s=0.01)


@dataclass
class FakeTelegram:
    """Takes every message after ``latency_s``; ``faults`` maps a chat to the errors its next sends get."""

    latency_s: float = 0.0
    faults: dict[int, list[TransportError]] = field(default_factory=dict)
    sent: list[tuple[int, str]] = field(default_factory=list)
    started_at: list[float] = field(default_factory=list)
    in_flight: dict[int, int] = field(default_factory=dict)
    most_in_flight: int = 0
    most_in_flight_per_chat: int = 0
    stop: asyncio.Event | None = None  # set once ``stop_after`` messages went out
    stop_after: int = 0
    edited: list[tuple[int, int, str]] = field(default_factory=list)  # chat, message, its new text
    edit_faults: list[TransportError] = field(default_factory=list)  # what the next edits get

    async def send_view(self, chat_id: int, view: View) -> int:
        self.started_at.append(time.monotonic())
        self.in_flight[chat_id] = self.in_flight.get(chat_id, 0) + 1
        self.most_in_flight = max(self.most_in_flight, sum(self.in_flight.values()))
        self.most_in_flight_per_chat = max(self.most_in_flight_per_chat, self.in_flight[chat_id])
        try:
            await asyncio.sleep(self.latency_s)
            if self.faults.get(chat_id):
                raise self.faults[chat_id].pop(0)
            self.sent.append((chat_id, view.html))
            if self.stop is not None and len(self.sent) >= self.stop_after:
                self.stop.set()
            return len(self.sent)
        finally:
            self.in_flight[chat_id] -= 1

    async def edit_view(self, chat_id: int, message_id: int, view: View) -> None:
        if self.edit_faults:
            raise self.edit_faults.pop(0)
        self.edited.append((chat_id, message_id, view.html))

    async def send_photo(self, chat_id: int, photo: SendPhoto) -> int:
        raise AssertionError("no photo expected")

    async def send_audio(self, chat_id: int, audio: SendAudio) -> int:
        raise AssertionError("no audio expected")

    def texts(self, chat_id: int) -> list[str]:
        return [text for chat, text in self.sent if chat == chat_id]


def delivery(crm: Crm, telegram: FakeTelegram, limits: Limits = FAST, **options: Any) -> OutboxDelivery:
    notifier = Notifier(crm, ChatSettings(bot_username="kanbot_test_bot", bot_id=1))
    return OutboxDelivery(crm, notifier, telegram, limits=limits, **options)


async def queue(crm: Crm, recipient: User, *call_ids: int) -> None:
    """Queue an "unknown caller" pop-up per call id (its text names the call's number)."""
    async with crm.db.uow() as uow:
        for call_id in call_ids:
            payload = CallUnknown(call_id=call_id, caller=caller(call_id), deal_id=None)
            await uow.outbox.put(Notification(recipient.id, payload), at=crm.clock.now())
        await uow.commit()


async def rows(crm: Crm) -> dict[int, dict[str, Any]]:
    async with crm.db.engine.connect() as conn:
        return {r.id: dict(r._mapping) for r in await conn.execute(outbox.select())}


def caller(call_id: int) -> str:
    return f"+7495{call_id:07d}"


async def more_sellers(crm: Crm, team: Team, *, first_id: int, count: int) -> list[User]:
    """``count`` sellers beside the team, Telegram ids from ``first_id``: that many chats to send to."""
    return [
        await crm.users.add(telegram_id=first_id + n, name=f"Seller {n}", role=team.alice.role)
        for n in range(count)
    ]


async def test_a_claimed_item_carries_its_recipient_as_stored(crm: Crm, team: Team) -> None:
    await queue(crm, team.alice, 1)
    async with crm.db.uow() as uow:
        (item,) = await uow.outbox.claim(now=crm.clock.now(), limit=10, lease=timedelta(seconds=60))
    assert item.recipient == await crm.users.get(team.alice.id)
    assert item.recipient.extensions == ("101",)
    assert item.recipient_telegram_id == team.alice.telegram_id


async def test_every_notification_goes_out_once_in_order_per_chat_and_is_marked_sent(
    crm: Crm, team: Team
) -> None:
    telegram = FakeTelegram(latency_s=0.005)
    for offset, seller in enumerate((team.alice, team.bob, team.carol)):
        await queue(crm, seller, *(100 * (offset + 1) + n for n in range(4)))
    sending = delivery(crm, telegram)

    assert await sending.flush(deadline_s=20) == 12

    assert len(telegram.sent) == 12
    for offset, seller in enumerate((team.alice, team.bob, team.carol)):
        texts = telegram.texts(seller.telegram_id)
        calls = [100 * (offset + 1) + n for n in range(4)]
        assert len(texts) == 4 and all(
            pretty_phone(caller(n)) in t for n, t in zip(calls, texts, strict=True)
        )
    stored = await rows(crm)
    assert {r["status"] for r in stored.values()} == {"sent"}
    assert all(r["claimed_until"] is None and r["attempts"] == 1 for r in stored.values())


async def test_several_chats_are_sent_to_at_once_but_each_chat_one_message_at_a_time(
    crm: Crm, team: Team
) -> None:
    telegram = FakeTelegram(latency_s=0.02)
    sellers = await more_sellers(crm, team, first_id=300, count=12)
    for n, seller in enumerate(sellers):
        await queue(crm, seller, 10 * n + 1, 10 * n + 2)

    assert await delivery(crm, telegram).flush(deadline_s=20) == 24

    assert telegram.most_in_flight > 1
    assert telegram.most_in_flight_per_chat == 1
    assert len(telegram.sent) == 24


async def test_messages_in_flight_together_keep_within_the_overall_rate(crm: Crm, team: Team) -> None:
    telegram = FakeTelegram(latency_s=0.01)
    sellers = await more_sellers(crm, team, first_id=400, count=40)
    for n, seller in enumerate(sellers):
        await queue(crm, seller, n + 1)

    # 20 a second, after a second's worth at once: the 40th message no sooner than a second in.
    await delivery(crm, telegram, Limits(per_second=20.0, per_chat_interval_s=0.01)).flush(deadline_s=20)

    assert len(telegram.sent) == 40
    start = telegram.started_at[0]
    for k, at in enumerate(sorted(telegram.started_at)):
        assert at - start >= (k + 1 - 20) / 20.0 - 0.02, f"message {k + 1} went out too soon"


async def test_a_429_holds_back_every_sender_and_its_item_goes_out_later(crm: Crm, team: Team) -> None:
    telegram = FakeTelegram(latency_s=0.01)
    telegram.faults[team.alice.telegram_id] = [
        TransportError(Failure.RETRY_AFTER, "slow down", retry_after=1)
    ]
    await queue(crm, team.alice, 1)
    sending = delivery(crm, telegram)
    await sending.flush_once()

    await queue(crm, team.bob, 2)
    await sending.flush_once()

    assert sending.stats.rate_limited == 1
    assert telegram.texts(team.bob.telegram_id)
    alice_asked, bob_sent = telegram.started_at[0], telegram.started_at[-1]
    # Bob waited out the pause Alice's 429 asked for, counted from her request
    assert bob_sent - alice_asked >= 1.0
    (alice_item,) = [r for r in (await rows(crm)).values() if r["recipient_id"] == team.alice.id]
    assert alice_item["status"] == "pending" and alice_item["claimed_until"] is None
    assert alice_item["not_before"] > crm.clock.now()


async def test_a_rate_limited_item_is_not_claimed_again_before_its_retry_after(crm: Crm, team: Team) -> None:
    """The running loop, on the wall clock: a 429's ``retry_after`` passes before the item's next try."""
    live = Crm(crm.db, clock=SystemClock(), config=crm.config)
    telegram = FakeTelegram()
    telegram.faults[team.alice.telegram_id] = [
        TransportError(Failure.RETRY_AFTER, "slow down", retry_after=1.5) for _ in range(2)
    ]
    await queue(live, team.alice, 1)
    sending = delivery(live, telegram)
    telegram.stop, telegram.stop_after = asyncio.Event(), 1

    await asyncio.wait_for(sending.run(telegram.stop, idle_s=0.05), timeout=60)

    assert telegram.texts(team.alice.telegram_id) and sending.stats.rate_limited == 2
    tries = telegram.started_at
    assert len(tries) == 3, f"tried {len(tries)} times for two 429s"
    assert all(later - earlier >= 1.4 for earlier, later in itertools.pairwise(tries)), tries
    (item,) = (await rows(crm)).values()
    assert item["status"] == "sent" and item["attempts"] == 1


async def test_a_user_who_blocked_the_bot_is_sent_nothing_more(crm: Crm, team: Team) -> None:
    telegram = FakeTelegram()
    telegram.faults[team.alice.telegram_id] = [TransportError(Failure.BLOCKED, "Forbidden: bot was blocked")]
    await queue(crm, team.alice, 1, 2, 3)
    await queue(crm, team.bob, 4)

    await delivery(crm, telegram).flush(deadline_s=20)

    assert telegram.texts(team.alice.telegram_id) == []
    assert len(telegram.started_at) == 2  # Alice's first, and Bob's
    user = await crm.users.get(team.alice.id)
    assert user is not None and user.blocked_bot
    statuses: dict[int, set[str]] = {}
    for r in (await rows(crm)).values():
        statuses.setdefault(r["recipient_id"], set()).add(r["status"])
    assert statuses == {team.alice.id: {"dead"}, team.bob.id: {"sent"}}


async def test_a_failed_send_is_retried_later_and_the_others_go_out(crm: Crm, team: Team) -> None:
    telegram = FakeTelegram()
    telegram.faults[team.alice.telegram_id] = [TransportError(Failure.UNAVAILABLE, "Bad Gateway")]
    await queue(crm, team.alice, 1)
    await queue(crm, team.bob, 2)
    sending = delivery(crm, telegram)

    await sending.flush_once()

    assert sending.stats.retried == 1 and sending.stats.sent == 1
    stored = {r["recipient_id"]: r for r in (await rows(crm)).values()}
    assert stored[team.alice.id]["status"] == "pending" and stored[team.alice.id]["attempts"] == 1
    assert stored[team.bob.id]["status"] == "sent"


async def test_stopping_mid_batch_sends_what_is_in_flight_and_hands_the_rest_back(
    crm: Crm, team: Team
) -> None:
    telegram = FakeTelegram(latency_s=0.05)
    sellers = await more_sellers(crm, team, first_id=500, count=30)
    for n, seller in enumerate(sellers):
        await queue(crm, seller, n + 1)
    sending = delivery(crm, telegram, Limits(per_second=10.0, per_chat_interval_s=0.01))
    telegram.stop, telegram.stop_after = asyncio.Event(), 12
    await asyncio.wait_for(sending.run(telegram.stop), timeout=10)

    stored = (await rows(crm)).values()
    sent = [r for r in stored if r["status"] == "sent"]
    assert len(sent) == len(telegram.sent) == sending.stats.sent
    assert len({chat for chat, _ in telegram.sent}) == len(telegram.sent)
    rest = [r for r in stored if r["status"] != "sent"]
    assert rest and all(r["status"] == "pending" and r["claimed_until"] is None for r in rest)
    assert all(r["attempts"] == 0 for r in rest)
