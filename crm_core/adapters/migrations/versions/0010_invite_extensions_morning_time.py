"""invites: the extensions a newcomer gets on joining; user_settings: when the morning plan comes

``invites.extensions`` holds the PBX extensions (comma-separated) the invitation gives whoever uses
it; ``user_settings.morning_time`` is the local time of a seller's morning plan (``NULL``: when the
working hours begin, as before).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("extensions", sa.String(length=200), nullable=True))
    with op.batch_alter_table("user_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("morning_time", sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_settings", schema=None) as batch_op:
        batch_op.drop_column("morning_time")
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.drop_column("extensions")
