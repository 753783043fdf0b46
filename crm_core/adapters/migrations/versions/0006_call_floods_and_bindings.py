"""calls: new numbers and calls held in a flood; call_seals; outbox: coalesce_key

A call flood is counted on ``calls.new_number`` and its calls kept with ``calls.held``; a caller's
repeated calls and a flood are one outbox item each by ``outbox.coalesce_key``; ``call_seals`` binds what
Zadarma signs of a call to the call id it first came with.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import crm_core.adapters.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("new_number", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(sa.Column("held", sa.Boolean(), server_default=sa.text("false"), nullable=False))
        batch_op.create_index("ix_calls_new_number_created_at", ["new_number", "created_at"], unique=False)
        batch_op.create_index("ix_calls_held_created_at", ["held", "created_at"], unique=False)

    op.create_table(
        "call_seals",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "digest", name=op.f("pk_call_seals")),
    )
    with op.batch_alter_table("call_seals", schema=None) as batch_op:
        batch_op.create_index("ix_call_seals_provider_external_id", ["provider", "external_id"], unique=False)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coalesce_key", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_outbox_coalesce_key", ["coalesce_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_coalesce_key")
        batch_op.drop_column("coalesce_key")

    with op.batch_alter_table("call_seals", schema=None) as batch_op:
        batch_op.drop_index("ix_call_seals_provider_external_id")
    op.drop_table("call_seals")

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_held_created_at")
        batch_op.drop_index("ix_calls_new_number_created_at")
        batch_op.drop_column("held")
        batch_op.drop_column("new_number")
