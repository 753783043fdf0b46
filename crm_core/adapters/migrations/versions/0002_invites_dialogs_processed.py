"""chat support: invites, dialog state, processed keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 17:51:53.264402
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import crm_core.adapters.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dialogs",
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_dialogs")),
    )
    op.create_table(
        "processed",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=10), server_default="done", nullable=False),
        sa.Column("at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_processed")),
    )
    with op.batch_alter_table("processed", schema=None) as batch_op:
        batch_op.create_index("ix_processed_at", ["at"], unique=False)
        batch_op.create_index("ix_processed_subject_at", ["subject_id", "at"], unique=False)

    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_by_id", sa.Integer(), nullable=True),
        sa.Column("used_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_invites_created_by_id_users")),
        sa.ForeignKeyConstraint(["used_by_id"], ["users.id"], name=op.f("fk_invites_used_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
        sa.UniqueConstraint("code", name=op.f("uq_invites_code")),
    )


def downgrade() -> None:
    op.drop_table("invites")
    with op.batch_alter_table("processed", schema=None) as batch_op:
        batch_op.drop_index("ix_processed_subject_at")
        batch_op.drop_index("ix_processed_at")

    op.drop_table("processed")
    op.drop_table("dialogs")
