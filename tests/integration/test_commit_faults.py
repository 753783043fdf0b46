"""A PostgreSQL connection that breaks during COMMIT: Kanbot finds out whether the commit happened.

Kanbot reaches the server through a TCP proxy that breaks the link at the COMMIT: before the server
gets it (rolled back), after (committed, the answer lost), or leaving the server's side open (the
transaction still open there). SQLAlchemy raises a bare ``DBAPIError`` then, which was taken for a bug
("something went wrong"); now a commit that happened returns as usual, one that did not is
``Unavailable`` (safe to retry), and only one that cannot be known is counted as saved.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from crm_core.adapters.database import Database, lost_database
from crm_core.domain.conversations import Dialog
from crm_core.domain.errors import Unavailable
from crm_core.services.unit_of_work import saved_changes
from tests.support.network import TcpProxy

pytestmark = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def through(proxy: TcpProxy, database_url: str) -> AsyncIterator[Database]:
    """Kanbot's database, reached through the proxy."""
    database = Database(proxy.url_through(database_url))
    yield database
    await database.dispose()


async def client_port(db_conn: object) -> int:
    raw = await db_conn.get_raw_connection()  # type: ignore[attr-defined]
    return int(raw.driver_connection._transport.get_extra_info("sockname")[1])


async def save_a_dialog(db: Database, proxy: TcpProxy, how: str, subject_id: int) -> list[int]:
    """Write one row, breaking the link at its COMMIT as ``how`` says; returns the saved-changes count."""
    saved = [0]
    token = saved_changes.set(saved)
    try:
        async with db.uow() as uow:
            await uow.dialogs.put(Dialog(subject_id, "new_deal", "title", {}, AT))
            proxy.break_at(b"COMMIT", how, port=await client_port(uow.connection))
            await uow.commit()
    finally:
        saved_changes.reset(token)
    assert proxy.sprung.is_set(), "the COMMIT went through the trap"
    return saved


async def dialog_saved(db: Database, subject_id: int) -> bool:
    async with db.uow(write=False) as uow:
        return await uow.dialogs.get(subject_id) is not None


async def test_a_commit_that_never_reached_the_server_is_unavailable_and_saved_nothing(
    through: Database, db: Database, proxy: TcpProxy
) -> None:
    with pytest.raises(Unavailable):
        await save_a_dialog(through, proxy, "lose", 1)
    assert not await dialog_saved(db, 1)


async def test_a_commit_that_happened_though_its_answer_was_lost_returns_as_done(
    through: Database, db: Database, proxy: TcpProxy
) -> None:
    saved = await save_a_dialog(through, proxy, "answer_lost", 2)
    assert saved == [1], "counted as a change saved"
    assert await dialog_saved(db, 2)


async def test_a_transaction_left_open_on_the_server_is_ended_and_reported_unavailable(
    through: Database, db: Database, proxy: TcpProxy
) -> None:
    with pytest.raises(Unavailable):
        await save_a_dialog(through, proxy, "stall", 3)
    assert not await dialog_saved(db, 3)
    async with db.engine.connect() as conn:  # and no transaction of it is left holding locks
        open_ones = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE state = 'idle in transaction' AND datname = current_database()"
            )
        )
    assert open_ones == 0


async def test_a_connection_killed_mid_statement_is_unavailable_not_a_bug(
    through: Database, db: Database
) -> None:
    async def read_on_a_killed_connection() -> None:
        async with through.uow() as uow:
            pid = await uow.connection.scalar(text("SELECT pg_backend_pid()"))
            async with db.engine.connect() as other:
                await other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            await uow.connection.execute(text("SELECT 1"))

    with pytest.raises(Unavailable) as raised:
        await read_on_a_killed_connection()
    cause = raised.value.__cause__
    assert isinstance(cause, DBAPIError) and lost_database(cause), cause
