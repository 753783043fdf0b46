"""SQL that differs between SQLite and PostgreSQL, behind one expression."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class epoch_seconds(FunctionElement[float]):
    """Seconds since 1970 of a timestamp column, as a float."""

    type = Float()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return f"((julianday({compiler.process(column, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return f"EXTRACT(EPOCH FROM {compiler.process(column, **kw)})"


def upsert(conn: AsyncConnection, table: Any) -> Any:
    """An INSERT that takes ``on_conflict_do_nothing`` / ``on_conflict_do_update`` on either database."""
    return pg_insert(table) if conn.dialect.name == "postgresql" else sqlite_insert(table)
