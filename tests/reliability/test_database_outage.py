"""The database gone in the middle of work, then back.

On PostgreSQL Kanbot reaches the server through a TCP proxy the test cuts (every link broken, new
ones refused) and restores; on SQLite another process holds ``BEGIN EXCLUSIVE`` (nobody else may
write). The outage starts at the worst moments — right after a button press committed its move and
before the card is redrawn, right after Telegram took a notification and before it is marked sent —
while a seller starts a new deal, a PBX posts calls, the AMI bridge's spool sends its own, and the Mini
App moves a deal. Requests fail with a clear message (a 503 the PBX retries) or wait and are retried;
the outbox and the spool keep everything; once the database is back everything is applied once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from bot.core import chat as chat_core
from bot.core.notify import Notifier
from bot.core.perform import PRESS_PATIENCE_S
from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from crm_core.domain.errors import Unavailable
from crm_core.domain.history import EventKind
from crm_core.services import Crm, DealService
from telegram_emulator import Emulator
from telephony_bridge.ami.backoff import Backoff
from telephony_bridge.ami.sender import CallSender
from telephony_bridge.signing import HEADER, sign
from telephony_bridge.spool import Spool, encode
from tests.e2e.harness import (
    ALI,
    BOSS,
    BOT_ID,
    CALLS_SECRET,
    MARIA,
    TOKEN,
    EmulatedChat,
    Msg,
    RunningKanbot,
    settings_for,
)
from tests.reliability.faults import SqliteWriteLock
from tests.reliability.nothing_lost import (
    TALLY,
    calls_once,
    delivered_once,
    outbox_drained,
    outbox_settled,
    presses_answered,
    updates_handled_once,
)
from tests.support.databases import SQLITE_ONLY
from tests.support.network import TcpProxy
from tests.webapp.support import telegram_init_data

QUICK_OUTAGE_S = 5.0


class Outage:
    """The database going away for Kanbot, and coming back; the test's own CRM still reaches it."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.proxy = TcpProxy.to(database_url) if database_url.startswith("postgresql") else None
        self.lock = SqliteWriteLock.of(database_url) if self.proxy is None else None
        self.down = False  # from the moment it is asked for
        self.started_at = 0.0
        self.lasts_s: float | None = None  # when set, it ends by itself that long after taking effect
        self._effect: asyncio.Future[None] | None = None  # the armed outage, once the database is away
        self._ending: asyncio.Task[None] | None = None
        self._beginning: asyncio.Task[None] | None = None

    @property
    def kanbot_url(self) -> str:
        return self.proxy.url_through(self.database_url) if self.proxy else self.database_url

    async def __aenter__(self) -> Outage:
        if self.proxy is not None:
            await self.proxy.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.end()
        if self.proxy is not None:
            await self.proxy.close()

    def arm(self, lasts_s: float) -> None:
        """The next ``begin`` (a test's trigger, inside Kanbot) starts an outage of ``lasts_s``."""
        self.lasts_s = lasts_s
        self._effect = asyncio.get_running_loop().create_future()

    async def begin(self) -> None:
        if self.down:
            return
        self.down = True
        TALLY.fault("database outage")
        if self.proxy is not None:
            await self.proxy.cut()
        else:
            assert self.lock is not None
            await self.lock.take()  # another process: seconds to start on a loaded machine
        self.started_at = time.monotonic()
        if self.lasts_s is not None:
            self._ending = asyncio.create_task(self._end_in(self.lasts_s))
        if self._effect is not None and not self._effect.done():
            self._effect.set_result(None)

    async def begin_soon(self) -> None:
        """``begin`` without waiting for it to take effect. On SQLite the outage is another process
        taking the write lock, which the update that triggers it holds (a card's press is one unit of
        work): it takes effect once that update commits."""
        self._beginning = asyncio.create_task(self.begin())

    async def taken_effect(self, what: str) -> None:
        """Wait until the armed outage is in effect (the lock held, the links cut), or was and is
        over already; ``what`` failed to happen if it never is."""
        assert self._effect is not None, "arm() the outage first"
        try:
            await asyncio.wait_for(asyncio.shield(self._effect), timeout=90)
        except TimeoutError:
            raise AssertionError(f"no outage: {what}") from None

    async def _end_in(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.end()

    async def over(self) -> None:
        """Wait until the armed outage has ended by itself."""
        if self._effect is not None:
            await asyncio.shield(self._effect)
        if self._ending is not None:
            await self._ending

    async def end(self) -> None:
        if not self.down:
            return
        self.down = False
        if self.proxy is not None:
            await self.proxy.restore()
        else:
            assert self.lock is not None
            await self.lock.release()


@pytest.fixture
async def outage(database_url: str) -> AsyncIterator[Outage]:
    async with Outage(database_url) as value:
        yield value


@pytest.fixture
async def kanbot(crm: Crm, outage: Outage, emulator: Emulator) -> AsyncIterator[RunningKanbot]:
    """Kanbot reaching its database through the outage (the conftest's ``chat`` uses this one)."""
    running = RunningKanbot(settings_for(outage.kanbot_url, emulator.url))
    await running.start()
    yield running
    await outage.end()
    await running.stop()


def after(coroutine_fn: Callable[..., Awaitable[Any]], then: Callable[[], Awaitable[None]]) -> Any:
    """``coroutine_fn`` that runs ``then`` once, right after its first successful call."""
    fired = False

    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        result = await coroutine_fn(*args, **kwargs)
        if not fired:
            fired = True
            await then()
        return result

    return wrapped


def a_call(call_id: str, minute: int) -> CallEvent:
    started = datetime(2026, 3, 2, 9, minute, tzinfo=UTC)
    return CallEvent(
        call_id=call_id,
        provider="asterisk",
        direction=CallDirection.INBOUND,
        status=CallStatus.MISSED,
        caller=f"+7495700{minute:04d}",
        dialed="+74997001122",
        started_at=started,
        rang=("101",),
        ended_at=started + timedelta(seconds=20),
        duration_s=0,
    )


@dataclass
class Work:
    """What the users, the PBX and the bridge did during the outage, and what came of it."""

    presses: list[str] = field(default_factory=list)
    updates: list[int] = field(default_factory=list)
    posted_during: dict[str, int] = field(default_factory=dict)
    mini_app_during: tuple[int, dict[str, Any]] | None = None


async def post_call(http: aiohttp.ClientSession, base: str, event: CallEvent) -> int:
    body = encode(event)
    headers = {"Content-Type": "application/json", HEADER: sign(body, CALLS_SECRET)}
    async with http.post(base + "/api/v1/calls", data=body, headers=headers) as response:
        return response.status


async def the_database_goes_away_mid_work(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot, outage: Outage, tmp_path: Path, *, outage_s: float
) -> Work:
    work = Work()
    running = kanbot.kanbot
    assert running is not None
    ali, boss = await crm.users.identify(ALI), await crm.users.identify(BOSS)
    deal = await crm.deals.create(actor=ali, title="Outage order", amount="5000", stage="Opportunity")
    board_deal = await crm.deals.create(actor=ali, title="Board order", stage="Opportunity")
    card = await open_card(chat, ALI, "Outage order")
    offer = await stage_id(crm, "Commercial offer")

    # 1. Telegram takes a notification, and the database goes before it is marked sent.
    outage.arm(outage_s)
    transport = running.delivery.transport
    transport.send_view = after(transport.send_view, outage.begin)  # type: ignore[method-assign]
    handed: dict[int, list[str]] = {ALI: [], MARIA: []}
    for i in range(4):
        seller = (ALI, MARIA)[i % 2]
        new = await crm.deals.create(actor=boss, title=f"Handed over in the outage {i}")
        await crm.deals.reassign(deal_id=new.id, owner_telegram_id=seller, actor=boss)
        handed[seller].append(f"Handed over in the outage {i}")
    running.delivery.wake.set()
    await outage.taken_effect("no notification went out")

    # 2. Meanwhile: a press, a new deal, calls from a PBX and from the bridge's spool, the Mini App.
    pressed = await chat._act(
        ALI, "/clicks", {"user_id": ALI, "message_id": card.message_id, "button": card.button("▶")["text"]}
    )
    work.presses.append(str(pressed["callback_query_id"]))
    work.updates.append(int(pressed["update_id"]))
    spool = Spool(tmp_path / "bridge-spool.sqlite")
    async with aiohttp.ClientSession() as http:
        sender = CallSender(
            spool,
            crm_url=kanbot.http_url,
            secret=CALLS_SECRET,
            session=http,
            backoff=Backoff(initial_s=0.2, max_s=2.0, jitter=0.0),
            request_timeout_s=15,
        )
        sending = asyncio.create_task(sender.run())
        try:
            bridge_calls = [a_call(f"spool-{i}", i) for i in range(3)]
            for event in bridge_calls:
                await spool.put(event)
            new_deal = await chat._act(
                MARIA, "/messages", {"user_id": MARIA, "text": "/new During the outage"}
            )
            work.updates.append(int(new_deal["update_id"]))
            pbx_calls = [a_call(f"pbx-{i}", 10 + i) for i in range(2)]
            # A PBX and the Mini App, as their users would, while it lasts: each answered (a 503 to
            # retry) or kept waiting until the database is back (SQLite's writers wait their turn).
            posted, moved_on_board = await asyncio.gather(
                asyncio.gather(*(post_call(http, kanbot.http_url, event) for event in pbx_calls)),
                move_on_board(http, kanbot, board_deal.id, board_deal.version, offer),
            )
            work.posted_during = {e.call_id: status for e, status in zip(pbx_calls, posted, strict=True)}
            work.mini_app_during = moved_on_board
            await outage.over()

            # 3. Back: the PBX retries what was refused; everything else catches up on its own.
            for event in pbx_calls:
                assert await post_call(http, kanbot.http_url, event) == 202
            await chat.wait(timeout_ms=120_000)

            async def spool_empty() -> bool:
                return await spool.pending() == 0

            await chat.wait_until(spool_empty, timeout_s=30, what="the bridge's spool to drain")
        finally:
            sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
            await spool.close()

    async def all_handed() -> bool:
        texts = {u: [m.text for m in await chat.bot_messages(u)] for u in handed}
        return all(any(t in m for m in texts[u]) for u, ts in handed.items() for t in ts)

    await chat.wait_until(all_handed, timeout_s=90, what="every notification after the outage")
    await outbox_drained(crm.db, timeout_s=60)
    await chat.wait(quiet_ms=1500, timeout_ms=60_000)

    # Applied once, answered, nothing lost.
    moved = await crm.deals.get(deal_id=deal.id, actor=ali)
    history = await crm.deals.history(deal_id=deal.id, actor=ali)
    assert moved.stage.name == "Commercial offer" and moved.version == deal.version + 1, moved
    assert [e.kind for e in history].count(EventKind.MOVED) == 1
    answers = {q: await chat.answer(q) for q in work.presses}
    await presses_answered(answers)
    if outage_s > 2 * PRESS_PATIENCE_S:
        for answer in answers.values():  # early, not when the database is back: Telegram refuses that
            assert answer is not None and "one moment" in answer["text"], answer
    dialog = await crm.dialogs.get(MARIA)  # her /new was taken: the first question is out, its answer awaited
    assert dialog is not None and (dialog.flow, dialog.data) == ("new_deal", {"title": "During the outage"})
    texts = {u: [m.text for m in await chat.bot_messages(u)] for u in handed}
    delivered_once(texts, handed)
    await outbox_settled(crm.db, allow_pending=False)
    await updates_handled_once(crm.db, bot_id=BOT_ID, update_ids=work.updates)
    accepted = [("asterisk", e.call_id, True) for e in [*bridge_calls, *pbx_calls]]
    await calls_once(crm.db, accepted)
    assert set(work.posted_during.values()) <= {202, 503}, work.posted_during
    assert work.mini_app_during is not None
    status, body = work.mini_app_during
    on_board = await crm.deals.get(deal_id=board_deal.id, actor=ali)
    if status == 503:  # refused clearly, changed nothing
        assert body["error"]["code"] == "unavailable" and on_board.version == board_deal.version, body
    else:  # waited for the database, and moved once
        assert status == 200 and on_board.stage.name == "Commercial offer", work.mini_app_during
        assert on_board.version == board_deal.version + 1
    TALLY.cases += 1
    return work


async def a_press_outlives_an_outage_that_starts_right_after_its_move(
    chat: EmulatedChat,
    crm: Crm,
    kanbot: RunningKanbot,
    outage: Outage,
    monkeypatch: pytest.MonkeyPatch,
    *,
    outage_s: float,
) -> None:
    """The database goes right after the move, before the card is redrawn (and the press answered):
    once it is back the press is answered (the card redrawn, or "Saved."), the deal moved once.

    The press is one unit of work: on PostgreSQL the link is cut within it (nothing of it saved, the
    retry does it all); on SQLite the outage, another process taking the write lock, waits for the
    press's move and card to commit together and takes the database from whatever comes next.
    """
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="Cut after the move", stage="Opportunity")
    card = await open_card(chat, ALI, "Cut after the move")
    outage.arm(outage_s)
    trigger = outage.begin if outage.proxy is not None else outage.begin_soon
    # the services are slotted dataclasses: the class is patched (the test's own CRM never moves)
    monkeypatch.setattr(DealService, "move_next", after(DealService.move_next, trigger))
    pressed = await chat._act(
        ALI, "/clicks", {"user_id": ALI, "message_id": card.message_id, "button": card.button("▶")["text"]}
    )
    await outage.taken_effect("the press never moved the deal")
    await outage.over()
    await chat.wait(timeout_ms=120_000)
    moved = await crm.deals.get(deal_id=deal.id, actor=ali)
    assert (moved.stage.name, moved.version) == ("Commercial offer", deal.version + 1), moved
    answer = await chat.answer(pressed["callback_query_id"])
    await presses_answered({str(pressed["callback_query_id"]): answer})
    redrawn = "Commercial offer" in (await chat.message(ALI, card.message_id)).text
    said = any(m.text == "✅ Saved." for m in await chat.bot_messages(ALI))  # after a "one moment"
    assert redrawn or said or (answer is not None and answer["text"] == "✅ Saved."), answer
    await updates_handled_once(crm.db, bot_id=BOT_ID, update_ids=[int(pressed["update_id"])])
    TALLY.cases += 1


async def a_note_saved_just_before_an_outage_is_written_once(
    chat: EmulatedChat, crm: Crm, outage: Outage, monkeypatch: pytest.MonkeyPatch, *, outage_s: float
) -> None:
    """The note is committed, the database goes before the question is closed: once it is back the note
    is there once (it was written twice), the user is told, and their next message is no second note."""
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="Noted before the cut", stage="Opportunity")
    await chat.send(ALI, "/find Noted before the cut")
    await chat.click(ALI, "Noted before the cut")
    await chat.click(ALI, "Note")
    outage.arm(outage_s)
    monkeypatch.setattr(DealService, "add_note", after(DealService.add_note, outage.begin))
    sent = await chat.send(ALI, "They want a discount", wait=False)
    await outage.taken_effect("the note was never saved")
    await outage.over()
    await chat.wait(timeout_ms=120_000)
    await chat.send(ALI, "/deals")  # what comes next is no note
    notes = [e for e in await crm.deals.history(deal_id=deal.id, actor=ali) if e.kind is EventKind.NOTE]
    assert [n.data["text"] for n in notes] == ["They want a discount"], notes
    assert await crm.dialogs.get(ALI) is None
    await updates_handled_once(crm.db, bot_id=BOT_ID, update_ids=[sent])
    TALLY.cases += 1


async def move_on_board(
    http: aiohttp.ClientSession, kanbot: RunningKanbot, deal_id: int, version: int, stage_id: int
) -> tuple[int, dict[str, Any]]:
    """The Mini App moves a deal: the board's POST, with launch data Telegram signed just now."""
    init = telegram_init_data(TOKEN, user_id=ALI, auth_date=kanbot.now())
    async with http.post(
        f"{kanbot.http_url}/app/api/deals/{deal_id}/move",
        json={"to_stage_id": stage_id, "version": version},
        headers={"Authorization": f"tma {init}"},
    ) as response:
        return response.status, json.loads(await response.text())


async def open_card(chat: EmulatedChat, user_id: int, title: str) -> Msg:
    """Find the deal and open its card: the message with its ▶ button, not merely the newest one (a
    morning plan or a notice from the outbox may come after it)."""
    await chat.send(user_id, f"/find {title}")
    await chat.click(user_id, title)
    for message in reversed(await chat.bot_messages(user_id)):
        if title in message.text and any("▶" in label for label in message.button_texts):
            return message
    raise AssertionError(f"no card of {title!r} in {user_id}'s chat")


async def stage_id(crm: Crm, name: str) -> int:
    async with crm.db.engine.connect() as conn:
        found = await conn.scalar(text("SELECT id FROM stages WHERE name = :name"), {"name": name})
    assert found is not None, name
    return int(found)


async def test_the_database_gone_for_seconds_mid_work_loses_and_doubles_nothing(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot, outage: Outage, tmp_path: Path
) -> None:
    await the_database_goes_away_mid_work(chat, crm, kanbot, outage, tmp_path, outage_s=QUICK_OUTAGE_S)


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_press_past_the_retries_is_told_to_try_again_and_changes_nothing(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot, outage: Outage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database stays away longer than the chat retries (cut short here): the seller is told to
    try again, and the deal has not moved."""
    monkeypatch.setattr(chat_core, "RETRY_DELAYS_S", (0.2, 0.2))
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="Past the retries", stage="Opportunity")
    card = await open_card(chat, ALI, "Past the retries")
    await outage.begin()
    try:
        pressed = await chat._act(
            ALI,
            "/clicks",
            {"user_id": ALI, "message_id": card.message_id, "button": card.button("▶")["text"]},
        )

        async def answered() -> bool:
            return await chat.answer(pressed["callback_query_id"]) is not None

        await chat.wait_until(answered, timeout_s=30, what="the press answered")
    finally:
        await outage.end()
    answer = await chat.answer(pressed["callback_query_id"])
    assert answer is not None and "try again in a minute" in answer["text"] and answer["show_alert"], answer
    after = await crm.deals.get(deal_id=deal.id, actor=ali)
    assert (after.stage.name, after.version) == ("Opportunity", deal.version)
    TALLY.cases += 1


async def test_a_press_whose_move_was_saved_just_before_the_database_went_is_answered_once_back(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot, outage: Outage, monkeypatch: pytest.MonkeyPatch
) -> None:
    await a_press_outlives_an_outage_that_starts_right_after_its_move(
        chat, crm, kanbot, outage, monkeypatch, outage_s=QUICK_OUTAGE_S
    )


@SQLITE_ONLY
async def test_a_notification_whose_rendering_meets_a_database_blip_goes_out_later_not_given_up(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database fails one read while a notification is rendered: it was given up as a render error."""
    real, blips = Notifier.render, [Unavailable("a blip")]

    async def render(self: Notifier, *args: Any, **kwargs: Any) -> Any:
        if blips:
            TALLY.fault("database blip while rendering")
            raise blips.pop()
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(Notifier, "render", render)
    boss = await crm.users.identify(BOSS)
    deal = await crm.deals.create(actor=boss, title="Rendered after a blip")
    await crm.deals.reassign(deal_id=deal.id, owner_telegram_id=ALI, actor=boss)

    async def arrived() -> bool:
        return any("Rendered after a blip" in m.text for m in await chat.bot_messages(ALI))

    await chat.wait_until(arrived, timeout_s=30, what="the notification after the blip")
    await chat.wait(quiet_ms=500)
    assert not blips
    delivered_once({ALI: [m.text for m in await chat.bot_messages(ALI)]}, {ALI: ["Rendered after a blip"]})
    assert await outbox_settled(crm.db) == {"sent": 1}
    TALLY.cases += 1


async def test_a_note_saved_just_before_the_database_went_is_written_once(
    chat: EmulatedChat, crm: Crm, kanbot: RunningKanbot, outage: Outage, monkeypatch: pytest.MonkeyPatch
) -> None:
    await a_note_saved_just_before_an_outage_is_written_once(
        chat, crm, outage, monkeypatch, outage_s=QUICK_OUTAGE_S
    )


@pytest.mark.reliability
@pytest.mark.parametrize("outage_s", [30.0, 45.0], ids=["30s", "45s"])
async def test_the_database_gone_for_half_a_minute_mid_work_loses_and_doubles_nothing(
    chat: EmulatedChat,
    crm: Crm,
    kanbot: RunningKanbot,
    outage: Outage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    outage_s: float,
) -> None:
    await the_database_goes_away_mid_work(chat, crm, kanbot, outage, tmp_path, outage_s=outage_s)
    await a_press_outlives_an_outage_that_starts_right_after_its_move(
        chat, crm, kanbot, outage, monkeypatch, outage_s=outage_s
    )
    await a_note_saved_just_before_an_outage_is_written_once(
        chat, crm, outage, monkeypatch, outage_s=outage_s
    )
