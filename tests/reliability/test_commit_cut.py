"""A press whose COMMIT meets a dropped PostgreSQL connection: applied once and answered, never
"something went wrong".

Kanbot reaches PostgreSQL through a TCP proxy that breaks the link at the move's COMMIT, before the
server gets it (the move rolled back: the chat retries it) or after (the move committed, its answer
lost: Kanbot asks the server, finds it done, and redraws the card).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from crm_core.adapters.database import UnitOfWork
from crm_core.domain.history import EventKind
from crm_core.services import Crm, DealService
from telegram_emulator import Emulator
from tests.e2e.harness import ALI, BOT_ID, EmulatedChat, RunningKanbot, settings_for
from tests.reliability.nothing_lost import TALLY, presses_answered, updates_handled_once
from tests.support.network import TcpProxy

pytestmark = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
async def kanbot(
    crm: Crm, proxy: TcpProxy, database_url: str, emulator: Emulator
) -> AsyncIterator[RunningKanbot]:
    """Kanbot reaching its database through the proxy (the conftest's ``chat`` uses this one)."""
    running = RunningKanbot(settings_for(proxy.url_through(database_url), emulator.url))
    await running.start()
    yield running
    await running.stop()


def break_the_moves_commit(
    monkeypatch: pytest.MonkeyPatch, kanbot: RunningKanbot, proxy: TcpProxy, how: str
) -> None:
    """The next COMMIT of a move Kanbot makes meets a broken link, as ``how`` says."""
    assert kanbot.kanbot is not None
    ours = kanbot.kanbot.crm.db
    armed, moves = [False], [0]
    real_commit: Callable[[UnitOfWork], Awaitable[None]] = UnitOfWork.commit
    real_move = DealService.move_next

    async def commit(self: UnitOfWork) -> None:
        if armed[0] and self.database is ours and not self.bookkeeping:
            armed[0] = False
            raw = await self.connection.get_raw_connection()
            port = raw.driver_connection._transport.get_extra_info("sockname")[1]
            proxy.break_at(b"COMMIT", how, port=port)
        await real_commit(self)

    async def move_next(self: DealService, **kwargs: Any) -> Any:
        if self.db is ours:
            moves[0] += 1
            armed[0] = moves[0] == 1  # the first try only: the chat's retry goes through
        return await real_move(self, **kwargs)

    monkeypatch.setattr(UnitOfWork, "commit", commit)
    monkeypatch.setattr(DealService, "move_next", move_next)


@pytest.mark.parametrize("how", ["lose", "answer_lost"], ids=["before-the-server", "answer-lost"])
async def test_a_press_whose_commit_meets_a_dropped_connection_moves_the_deal_once_and_redraws_it(
    chat: EmulatedChat,
    crm: Crm,
    kanbot: RunningKanbot,
    proxy: TcpProxy,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="Cut at the commit", stage="Opportunity")
    await chat.send(ALI, "/find Cut at the commit")
    await chat.click(ALI, "Cut at the commit")
    card = await chat.last(ALI)
    break_the_moves_commit(monkeypatch, kanbot, proxy, how)
    pressed = await chat.click(ALI, "▶")
    assert proxy.sprung.is_set(), "the move's COMMIT met the broken link"
    TALLY.fault(f"connection dropped at COMMIT ({how})")
    answer = await chat.answer(pressed)
    await presses_answered({pressed: answer})
    assert answer is not None and "went wrong" not in (answer["text"] or ""), answer
    assert "Commercial offer" in (await chat.message(ALI, card.message_id)).text, "the card redrawn"
    moved = await crm.deals.get(deal_id=deal.id, actor=ali)
    assert (moved.stage.name, moved.version) == ("Commercial offer", deal.version + 1), moved
    history = await crm.deals.history(deal_id=deal.id, actor=ali)
    assert [e.kind for e in history].count(EventKind.MOVED) == 1
    assert chat.last_update_id is not None
    await updates_handled_once(crm.db, bot_id=BOT_ID, update_ids=[chat.last_update_id])
    TALLY.cases += 1
