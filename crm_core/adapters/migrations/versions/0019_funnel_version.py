"""funnel_version: a number every change of the funnel bumps, so each process can cache the funnel

A process keeps the pipeline and its stages in memory, keyed by this number, and reads only the number
in a unit of work that needs the funnel (reading the stages again when it changed). Triggers on
``pipelines`` and ``stages`` bump it with every insert, update and delete (and, on PostgreSQL, a
TRUNCATE), in the same transaction, whoever makes the change: ``kanbot pipeline apply`` in another
process, a service, an operator's SQL. Should the row be gone, the next change puts it back at a
random number, so a number seen before the row was lost is not taken to mean the same funnel.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TABLES = ("pipelines", "stages")

SQLITE_BUMP = """
INSERT INTO funnel_version (id, version) VALUES (1, abs(random() % 1000000000000000))
ON CONFLICT (id) DO UPDATE SET version = funnel_version.version + 1;
"""

POSTGRES_FUNCTION = """
CREATE FUNCTION funnel_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO funnel_version (id, version) VALUES (1, floor(random() * 1e15)::bigint)
    ON CONFLICT (id) DO UPDATE SET version = funnel_version.version + 1;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "funnel_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funnel_version")),
    )
    op.execute("INSERT INTO funnel_version (id, version) VALUES (1, 1)")
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(
                    f"CREATE TRIGGER {table}_funnel_version_{event} AFTER {event.upper()} ON {table} "
                    f"BEGIN {SQLITE_BUMP} END"
                )
    else:
        op.execute(POSTGRES_FUNCTION)
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_funnel_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION funnel_version_bump()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_funnel_version_{event}")
    else:
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_funnel_version ON {table}")
        op.execute("DROP FUNCTION funnel_version_bump()")
    op.drop_table("funnel_version")
