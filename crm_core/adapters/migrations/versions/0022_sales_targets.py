"""sales_targets: each seller's monthly target, an amount and optionally a number of deals won

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crm_core.adapters.types

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sales_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("amount", crm_core.adapters.types.Money(precision=14, scale=2), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=True),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sales_targets_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["users.id"], name=op.f("fk_sales_targets_set_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_targets")),
        sa.UniqueConstraint("user_id", "month", name=op.f("uq_sales_targets_user_id_month")),
    )
    op.create_index("ix_sales_targets_month", "sales_targets", ["month"])


def downgrade() -> None:
    op.drop_index("ix_sales_targets_month", table_name="sales_targets")
    op.drop_table("sales_targets")
