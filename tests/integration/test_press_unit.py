"""A card button's press is one unit of work: the update's claim, its sender's pace, the move, the
card's reads and the done mark in one transaction, on both databases; a refused change within it
leaves the claim and the answer (the update rolled back, the claim recorded on its own), and work
inside the unit is seen by nobody until it commits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.core import actions as A
from bot.core import codec
from bot.core.chat import ChatCore
from bot.core.context import ChatSettings
from bot.core.events import ButtonPress, Sender
from bot.core.views import Answer, Edit
from crm_core.adapters.database import Database
from crm_core.adapters.tables import deal_events, processed
from crm_core.domain.deals import Deal
from crm_core.domain.errors import StaleVersion
from crm_core.domain.history import EventKind
from crm_core.services import Crm
from tests.integration.support import Team

BOT_ID = 700001


@pytest.fixture
def chat(crm: Crm) -> ChatCore:
    return ChatCore(crm, ChatSettings(bot_id=BOT_ID))


@pytest.fixture
async def other(database_url: str) -> AsyncIterator[Database]:
    """Another connection to the same database, outside the update."""
    database = Database(database_url)
    yield database
    await database.dispose()


def press(update_id: int, telegram_id: int, action: A.Next | A.Card, chat: ChatCore) -> ButtonPress:
    return ButtonPress(
        update_id=update_id,
        sender=Sender(id=telegram_id, first_name="Alice", language_code="en"),
        chat_id=telegram_id,
        query_id=f"q{update_id}",
        data=codec.encode(action),
        message_id=10,
    )


@contextmanager
def transactions(db: Database) -> Iterator[list[str]]:
    """The transactions the database's connections end while inside, as "COMMIT" or "ROLLBACK"."""
    ended: list[str] = []
    engine = db.engine.sync_engine

    def committed(conn: Any) -> None:
        ended.append("COMMIT")

    def rolled_back(conn: Any) -> None:
        ended.append("ROLLBACK")

    event.listen(engine, "commit", committed)
    event.listen(engine, "rollback", rolled_back)
    try:
        yield ended
    finally:
        event.remove(engine, "commit", committed)
        event.remove(engine, "rollback", rolled_back)


async def opportunity(crm: Crm, team: Team) -> Deal:
    return await crm.deals.create(actor=team.alice, title="ACME order", stage="Opportunity")


async def claim_state(db: Database, update_id: int, *, bot_id: int = BOT_ID) -> str | None:
    """The update's claim in the handled-updates ledger, as a read of its own sees it."""
    async with db.uow(write=False) as uow:
        key = f"u:{bot_id}:{update_id}"
        return await uow.connection.scalar(select(processed.c.state).where(processed.c.key == key))


async def moves(db: Database, deal_id: int) -> int:
    async with db.uow(write=False) as uow:
        rows = await uow.connection.execute(
            select(deal_events.c.id).where(
                deal_events.c.deal_id == deal_id, deal_events.c.kind == EventKind.MOVED.value
            )
        )
        return len(rows.all())


async def test_a_next_stage_press_is_one_transaction_that_moves_the_deal_and_redraws_its_card(
    crm: Crm, team: Team, chat: ChatCore, db: Database
) -> None:
    deal = await opportunity(crm, team)
    await db.liveness.hold()  # the process's liveness lock: taken once per process, not per press
    with transactions(db) as ended:
        reply = await chat.handle(press(1, team.alice.telegram_id, A.Next(deal.id, deal.version), chat))
    assert ended == ["COMMIT"]
    assert reply.outcome == "ok"
    assert isinstance(reply.actions[0], Answer)
    edit = next(a for a in reply.actions if isinstance(a, Edit))
    assert "Commercial offer" in edit.view.html
    moved = await crm.deals.get(deal_id=deal.id, actor=team.alice)
    assert (moved.stage.name, moved.version) == ("Commercial offer", deal.version + 1)
    assert await claim_state(db, 1) == "done"


async def test_a_press_delivered_twice_moves_the_deal_once(
    crm: Crm, team: Team, chat: ChatCore, db: Database
) -> None:
    deal = await opportunity(crm, team)
    update = press(7, team.alice.telegram_id, A.Next(deal.id, deal.version), chat)
    assert (await chat.handle(update)).outcome == "ok"
    again = await chat.handle(update)
    assert again.duplicate and again.outcome == "duplicate"
    assert await moves(db, deal.id) == 1


async def test_a_stale_press_keeps_its_claim_and_shows_the_current_card_without_moving_the_deal(
    crm: Crm, team: Team, chat: ChatCore, db: Database
) -> None:
    deal = await opportunity(crm, team)
    await crm.deals.add_note(deal_id=deal.id, text="Called them", actor=team.alice)  # version + 1
    await db.liveness.hold()
    with transactions(db) as ended:
        reply = await chat.handle(press(2, team.alice.telegram_id, A.Next(deal.id, deal.version), chat))
    # The stale version is found before the move writes anything: the update commits its claim alone.
    assert ended == ["COMMIT"]
    assert reply.outcome == "stale"
    edit = next(a for a in reply.actions if isinstance(a, Edit))
    assert "Opportunity" in edit.view.html
    after = await crm.deals.get(deal_id=deal.id, actor=team.alice)
    assert (after.stage.name, after.version) == ("Opportunity", deal.version + 1)
    assert await moves(db, deal.id) == 0
    assert await claim_state(db, 2) == "done"


async def test_a_press_with_no_stage_that_way_is_refused_and_changes_nothing_but_its_claim(
    crm: Crm, team: Team, chat: ChatCore, db: Database
) -> None:
    deal = await opportunity(crm, team)
    won = await crm.deals.mark_won(deal_id=deal.id, actor=team.alice)
    before = await crm.deals.history(deal_id=deal.id, actor=team.alice)
    await db.liveness.hold()
    with transactions(db) as ended:
        reply = await chat.handle(press(3, team.alice.telegram_id, A.Next(won.id, won.version), chat))
    assert ended == ["ROLLBACK", "COMMIT"]
    assert reply.outcome == "refused"
    answer = reply.actions[0]
    assert isinstance(answer, Answer) and answer.alert and answer.text
    after = await crm.deals.get(deal_id=deal.id, actor=team.alice)
    assert (after.stage.name, after.version) == ("Won", won.version)
    assert await crm.deals.history(deal_id=deal.id, actor=team.alice) == before
    assert await claim_state(db, 3) == "done"


async def test_work_within_an_update_is_seen_by_nobody_until_the_update_commits(
    crm: Crm, team: Team, other: Database
) -> None:
    deal = await opportunity(crm, team)
    window = timedelta(seconds=10)
    assert await moves(other, deal.id) == 0  # its connection opened (and set up) before the update
    async with crm.ledger.taking("u:1:50", telegram_id=team.alice.telegram_id, window=window, prefix="u:"):
        moved = await crm.deals.move_next(deal_id=deal.id, actor=team.alice, expected_version=deal.version)
        assert moved.stage.name == "Commercial offer"
        assert await moves(other, deal.id) == 0  # committed by the service, saved with the update
        assert await claim_state(other, 50, bot_id=1) is None
    assert await moves(other, deal.id) == 1
    assert await claim_state(other, 50, bot_id=1) == "done"


async def test_an_update_that_fails_within_its_unit_saves_nothing_and_can_be_done_again(
    crm: Crm, team: Team, db: Database
) -> None:
    deal = await opportunity(crm, team)
    window = timedelta(seconds=10)

    async def fall_over() -> None:
        alice = team.alice.telegram_id
        async with crm.ledger.taking("u:1:60", telegram_id=alice, window=window, prefix="u:"):
            await crm.deals.move_next(deal_id=deal.id, actor=team.alice, expected_version=deal.version)
            raise RuntimeError("the process fell over mid-update")

    with pytest.raises(RuntimeError):
        await fall_over()
    assert await moves(db, deal.id) == 0
    async with crm.ledger.taking(
        "u:1:60", telegram_id=team.alice.telegram_id, window=window, prefix="u:"
    ) as arrival:
        assert arrival.claim.value == "new"  # nothing of it was kept: a redelivery does it
        await crm.deals.move_next(deal_id=deal.id, actor=team.alice, expected_version=deal.version)
    assert await moves(db, deal.id) == 1


async def test_a_change_that_fails_after_one_that_was_kept_goes_back_to_its_savepoint_only(
    crm: Crm, team: Team, db: Database
) -> None:
    deal = await opportunity(crm, team)
    window = timedelta(seconds=10)
    alice = team.alice.telegram_id
    async with crm.ledger.taking("u:1:70", telegram_id=alice, window=window, prefix="u:"):
        await crm.deals.move_next(deal_id=deal.id, actor=team.alice, expected_version=deal.version)
        with pytest.raises(StaleVersion):  # the card the user saw is older than the first move
            await crm.deals.move_next(deal_id=deal.id, actor=team.alice, expected_version=deal.version)
    moved = await crm.deals.get(deal_id=deal.id, actor=team.alice)
    assert (moved.stage.name, moved.version) == ("Commercial offer", deal.version + 1)
    assert await moves(db, deal.id) == 1
    assert await claim_state(db, 70, bot_id=1) == "done"


async def test_a_press_from_an_app_in_another_language_than_the_one_chosen_still_moves_the_deal(
    crm: Crm, team: Team, chat: ChatCore, db: Database
) -> None:
    """Adopting the app's language opens a unit that finds the language chosen and leaves: no change
    is lost for it."""
    await crm.users.update_preferences(actor=team.alice, locale="en")
    deal = await opportunity(crm, team)
    update = press(8, team.alice.telegram_id, A.Next(deal.id, deal.version), chat)
    reply = await chat.handle(replace(update, sender=replace(update.sender, language_code="ru")))
    assert reply.outcome == "ok"
    moved = await crm.deals.get(deal_id=deal.id, actor=team.alice)
    assert (moved.stage.name, moved.version) == ("Commercial offer", deal.version + 1)
    assert await claim_state(db, 8) == "done"
