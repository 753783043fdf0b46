"""follow-ups: reminder claims, task notifications, user settings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 18:03:05.598727
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crm_core.adapters.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("digest_time", sa.String(length=5), server_default="09:00", nullable=False),
        sa.Column("digest_enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("morning_plan_enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("last_digest_on", sa.String(length=10), nullable=True),
        sa.Column("last_digest_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_morning_on", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_settings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_settings")),
    )
    op.create_table(
        "deal_followups",
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("stale_since", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_deal_followups_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("deal_id", "stale_since", name=op.f("pk_deal_followups")),
    )
    with op.batch_alter_table("deal_followups", schema=None) as batch_op:
        batch_op.create_index("ix_deal_followups_escalation", ["escalated_at", "reminded_at"], unique=False)

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notified_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("repeated_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_tasks_due_unnotified", ["due_at", "notified_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_due_unnotified")
        batch_op.drop_column("repeated_at")
        batch_op.drop_column("notified_at")

    with op.batch_alter_table("deal_followups", schema=None) as batch_op:
        batch_op.drop_index("ix_deal_followups_escalation")

    op.drop_table("deal_followups")
    op.drop_table("user_settings")
