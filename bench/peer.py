"""Benchmark 1's second baseline and its bare-driver floor, next to Kanbot's press.

The peer: what a straightforward aiogram + SQLAlchemy ORM bot does for "next stage" on Kanbot's own
tables, in one session — read the user, get the deal, insert a history row, update the deal — then
answer the press and edit the card. Its own small ORM mapping over ``crm_core``'s tables; the stage
order is read once at start, as such a bot would keep it.

The floor: the echo handler plus the press's own SQL, as Kanbot sent it to the driver (recorded
statement by statement, with its transactions, while Kanbot pressed), run again on a fresh copy of the
same data through the bare driver: ``sqlite3`` on the event loop, or ``asyncpg``. The same statements
with the same values on the same data do the same work, with nothing of SQLAlchemy's or Kanbot's.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiogram import Dispatcher, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from bot.core import actions as A
from bot.core import codec
from crm_core.adapters import tables
from crm_core.adapters.database import Database


class Base(DeclarativeBase):
    pass


class User(Base):
    __table__ = tables.users


class Deal(Base):
    __table__ = tables.deals
    __mapper_args__ = {"version_id_col": tables.deals.c.version}  # noqa: RUF012 (SQLAlchemy's own)


class DealEvent(Base):
    __table__ = tables.deal_events


Statement = tuple[str, Any, bool]  # (SQL as the driver got it, its parameters, executemany)
Press = list[Statement]


def peer_engine(url: str) -> AsyncEngine:
    """The peer's engine: SQLAlchemy's defaults (no pre-ping), as a straightforward bot makes it."""
    return create_async_engine(url)


async def next_stages(engine: AsyncEngine) -> dict[int, int]:
    """Each open stage's next stage in its pipeline, read once at start."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(tables.stages.c.id, tables.stages.c.pipeline_id, tables.stages.c.kind).order_by(
                tables.stages.c.pipeline_id, tables.stages.c.position
            )
        )
        ordered = list(rows)
    following: dict[int, int] = {}
    for (stage, pipeline, kind), (after, after_pipeline, _) in itertools.pairwise(ordered):
        if kind not in ("won", "lost") and pipeline == after_pipeline:
            following[stage] = after
    return following


def peer_dispatcher(engine: AsyncEngine, following: dict[int, int]) -> Dispatcher:
    """The straightforward bot: one ORM session per press, then answer and edit the card."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    router = Router(name="peer")

    @router.callback_query()
    async def next_stage(query: CallbackQuery) -> None:
        _, deal_b36, version_b36 = (query.data or "").split(":")  # "1nx:<deal>:<version>", base 36
        action = A.Next(int(deal_b36, 36), int(version_b36, 36))
        now = datetime.now(UTC)
        async with sessions() as session, session.begin():
            user = (
                await session.execute(select(User).where(User.telegram_id == query.from_user.id))
            ).scalar_one()
            deal = await session.get(Deal, action.deal_id)
            assert deal is not None and deal.version == action.version and deal.owner_id == user.id
            before, after = deal.stage_id, following[deal.stage_id]
            session.add(
                DealEvent(
                    deal_id=deal.id,
                    kind="moved",
                    at=now,
                    actor_id=user.id,
                    from_stage_id=before,
                    to_stage_id=after,
                    data={},
                )
            )
            deal.stage_id, deal.stage_entered_at, deal.last_activity_at = after, now, now
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text="◀", callback_data=codec.encode(A.Prev(deal.id, deal.version))),
                    InlineKeyboardButton(text="▶", callback_data=codec.encode(A.Next(deal.id, deal.version))),
                ]
            ]
        )
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(f"{deal.title}\nStage {after}", reply_markup=keyboard)

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


def count_statements(engine: AsyncEngine) -> list[int]:
    """A counter (in a list) of the statements ``engine`` sends from now on."""
    counter = [0]

    def count(*_: Any) -> None:
        counter[0] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    return counter


class Recorder:
    """Kanbot's SQL as its driver got it, one list per press (``start()`` before each), with
    BEGIN / COMMIT / ROLLBACK where SQLAlchemy ended a transaction through the driver's own calls."""

    def __init__(self, db: Database) -> None:
        self.presses: list[Press] = []
        self.sqlite = db.is_sqlite
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", lambda conn: self._add("COMMIT", None))
        event.listen(engine, "rollback", lambda conn: self._add("ROLLBACK", None))

    def start(self) -> None:
        self.presses.append([])

    def _add(self, sql: str, parameters: Any, many: bool = False) -> None:
        if self.presses:
            self.presses[-1].append((sql, parameters, many))

    def _begin(self, conn: Any) -> None:
        if not self.sqlite:  # asyncpg's BEGIN is its own call; on SQLite Kanbot sends BEGIN as a statement
            self._add("BEGIN", None)

    def _statement(self, conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, many: bool) -> None:
        if sql.strip().upper().startswith("SELECT TXID_CURRENT_IF_ASSIGNED"):
            return  # Kanbot's own bookkeeping for a lost COMMIT, not the press's SQL
        self._add(sql, parameters, many)


Replay = Callable[[Press], Awaitable[None]]


def sqlite_replayer(url: str) -> tuple[Replay, Callable[[], Awaitable[None]]]:
    """The press's statements through ``sqlite3`` itself, on the loop; (replay, close)."""
    conn = sqlite3.connect(make_url(url).database or "", isolation_level=None, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {pragma}")

    async def replay(press: Press) -> None:
        for sql, parameters, many in press:
            if sql == "COMMIT":
                conn.commit()
            elif sql == "ROLLBACK":
                conn.rollback()
            elif many:
                conn.executemany(sql, parameters)
            else:
                conn.execute(sql, parameters or ()).fetchall()

    async def close() -> None:
        conn.close()

    return replay, close


async def asyncpg_replayer(
    url: str, *, replica: bool = False
) -> tuple[Replay, Callable[[], Awaitable[None]]]:
    """The statements through ``asyncpg`` itself, prepared once and cached by asyncpg; ``replica``:
    without checking foreign keys or running triggers (``session_replication_role``)."""
    parsed = make_url(url).set(drivername="postgresql")
    conn = await asyncpg.connect(parsed.render_as_string(hide_password=False))
    if replica:
        await conn.execute("SET session_replication_role = replica")

    async def replay(press: Press) -> None:
        for sql, parameters, many in press:
            if parameters is None:
                await conn.execute(sql)
            elif many:
                await conn.executemany(sql, parameters)
            else:
                await conn.fetch(sql, *parameters)

    return replay, conn.close


def echo_dispatcher(first: Callable[[], Awaitable[None]] | None = None) -> Dispatcher:
    """The echo: aiogram alone answering the press and editing the message, as Kanbot's reply does
    (``first``: what the handler does before, as the floor's SQL)."""
    router = Router(name="echo")

    @router.callback_query()
    async def echo(query: CallbackQuery) -> None:
        if first is not None:
            await first()
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(f"echo: {query.data}")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


def floor_dispatcher(presses: Iterator[Press], replay: Replay) -> Dispatcher:
    """The echo handler plus the next press's recorded SQL through the bare driver."""
    return echo_dispatcher(lambda: replay(next(presses)))
