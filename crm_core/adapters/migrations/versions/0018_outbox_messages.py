"""outbox.edits, chat_id, message_id: a notification remembers the Telegram message it became, and a
later one can show itself in that message (a call's pop-up edited in place when the call ends)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edits", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("message_id")
        batch_op.drop_column("chat_id")
        batch_op.drop_column("edits")
