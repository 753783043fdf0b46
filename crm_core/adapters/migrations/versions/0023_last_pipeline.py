"""user_settings.last_pipeline_id: the funnel a person last worked in, offered first by the chat

With more than one pipeline the board and ``/new`` ask which one; the one last used comes first. No
foreign key: a pipeline removed since is simply not found, and the default comes first again.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 22:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_settings") as batch_op:
        batch_op.add_column(sa.Column("last_pipeline_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_settings") as batch_op:
        batch_op.drop_column("last_pipeline_id")
