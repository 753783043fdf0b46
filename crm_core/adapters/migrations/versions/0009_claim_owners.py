"""processed: the process working on a claimed key (``owner``)

A claim left ``working`` by a process that died was ignored until its 60 s lease ran out; with the
owner recorded, the process's liveness lock tells at once that it is gone and the work is taken over.
Claims from before this revision have no owner and keep the lease.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processed", schema=None) as batch_op:
        batch_op.drop_column("owner")
