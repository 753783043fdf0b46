"""deals: an index on (closed_at, follow_up_due_at) for the stale sweep

Without statistics SQLite took ``closed_at IS NULL`` for the selective condition and walked every open
deal through ``ix_deals_closed_at``; with both columns in one index the sweep reads the stale deals only,
already in due order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 20:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.create_index("ix_deals_open_follow_up", ["closed_at", "follow_up_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index("ix_deals_open_follow_up")
