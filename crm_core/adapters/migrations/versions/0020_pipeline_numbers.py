"""pipeline_numbers and pipelines.position: several funnels, in the file's order, with the numbers
(DIDs) whose calls open deals in each

A call from a new number to a DID listed here opens its deal in that pipeline's inbox; every other call
in the default pipeline. Changes of ``pipeline_numbers`` bump the funnel's version (migration 0019),
as changes of ``pipelines`` and ``stages`` do: the cached pipelines carry their numbers.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

SQLITE_BUMP = """
INSERT INTO funnel_version (id, version) VALUES (1, abs(random() % 1000000000000000))
ON CONFLICT (id) DO UPDATE SET version = funnel_version.version + 1;
"""


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy of the table on SQLite, which would lose its triggers).
    op.add_column("pipelines", sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "pipeline_numbers",
        sa.Column("did", sa.String(length=20), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
            name=op.f("fk_pipeline_numbers_pipeline_id_pipelines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("did", name=op.f("pk_pipeline_numbers")),
    )
    op.create_index(
        op.f("ix_pipeline_numbers_pipeline_id"), "pipeline_numbers", ["pipeline_id"], unique=False
    )
    if op.get_bind().dialect.name == "sqlite":
        for event in ("insert", "update", "delete"):
            op.execute(
                f"CREATE TRIGGER pipeline_numbers_funnel_version_{event} AFTER {event.upper()} "
                f"ON pipeline_numbers BEGIN {SQLITE_BUMP} END"
            )
    else:
        op.execute(
            "CREATE TRIGGER pipeline_numbers_funnel_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            "ON pipeline_numbers FOR EACH STATEMENT EXECUTE FUNCTION funnel_version_bump()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER pipeline_numbers_funnel_version_{event}")
    else:
        op.execute("DROP TRIGGER pipeline_numbers_funnel_version ON pipeline_numbers")
    op.drop_index(op.f("ix_pipeline_numbers_pipeline_id"), table_name="pipeline_numbers")
    op.drop_table("pipeline_numbers")
    op.drop_column("pipelines", "position")
