"""call_recordings: the recordings PBXs keep of calls, fetched into the recordings directory, deleted
after the retention period

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 14:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crm_core.adapters.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = crm_core.adapters.types.UtcDateTime(timezone=True)
    op.create_table(
        "call_recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("ref", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_try_at", moment, nullable=True),
        sa.Column("file_name", sa.String(length=40), nullable=True),
        sa.Column("mime", sa.String(length=40), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("stored_at", moment, nullable=True),
        sa.Column("deleted_at", moment, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_recordings")),
        sa.UniqueConstraint("provider", "external_id", name=op.f("uq_call_recordings_provider_external_id")),
    )
    op.create_index(
        "ix_call_recordings_state_next_try_at", "call_recordings", ["state", "next_try_at"], unique=False
    )
    op.create_index(
        "ix_call_recordings_state_stored_at", "call_recordings", ["state", "stored_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_call_recordings_state_stored_at", table_name="call_recordings")
    op.drop_index("ix_call_recordings_state_next_try_at", table_name="call_recordings")
    op.drop_table("call_recordings")
