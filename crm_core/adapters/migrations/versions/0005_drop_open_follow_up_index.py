"""deals: drop the (closed_at, follow_up_due_at) index of 0004

SQLite also took it for every ``closed_at IS NULL`` — the funnel snapshot then read its million open
deals in due order instead of in table order, four times slower. The stale sweep now asks for
``follow_up_due_at <= now`` alone (a closed deal's is NULL) and uses ``ix_deals_follow_up_due_at``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 20:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index("ix_deals_open_follow_up")


def downgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.create_index("ix_deals_open_follow_up", ["closed_at", "follow_up_due_at"], unique=False)
