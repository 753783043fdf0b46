"""The units of work's connections: pooled PostgreSQL connections the server closed are replaced
without a pre-ping; SQLite statements run through ``sqlite3`` on the event loop and give SQLAlchemy
what it reads (rows, row counts, the new row's id)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from crm_core.adapters.database import Database
from crm_core.adapters.sqlite_loop import LoopConnection


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_pooled_connection_the_server_closed_is_replaced(db: Database, database_url: str) -> None:
    held = [db.uow(write=False) for _ in range(3)]
    pids = []
    for uow in held:
        await uow.__aenter__()
        pids.append(await uow.connection.scalar(text("SELECT pg_backend_pid()")))
    for uow in held:
        await uow.__aexit__(None, None, None)
    admin = Database(database_url)
    try:
        async with admin.engine.connect() as conn:
            for pid in pids:
                assert await conn.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            await conn.commit()
    finally:
        await admin.dispose()

    for n in range(4):  # every pooled connection is dead: each unit of work still gets a live one
        async with db.uow() as uow:
            assert await uow.connection.scalar(text("SELECT CAST(:n AS INTEGER)"), {"n": n}) == n
            assert await uow.connection.scalar(text("SELECT pg_backend_pid()")) not in pids
            await uow.commit()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_statements_run_on_the_loop_and_give_what_sqlalchemy_reads(db: Database) -> None:
    async with db.uow() as uow:
        raw = await uow.connection.get_raw_connection()
        assert isinstance(raw.dbapi_connection, LoopConnection)
        await uow.connection.execute(text("CREATE TEMP TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        added = await uow.connection.execute(text("INSERT INTO t (v) VALUES ('a')"))
        assert added.lastrowid == 1
        await uow.connection.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "b"}, {"v": "c"}])
        changed = await uow.connection.execute(text("UPDATE t SET v = 'z' WHERE id > 1"))
        assert changed.rowcount == 2
        rows = (await uow.connection.execute(text("SELECT id, v FROM t ORDER BY id"))).all()
        assert [tuple(r) for r in rows] == [(1, "a"), (2, "z"), (3, "z")]
        assert (await uow.connection.execute(text("SELECT v FROM t WHERE id = 9"))).first() is None
        await uow.commit()
