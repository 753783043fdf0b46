"""call_requests: calls to place from the CRM (ring the seller's phone, then dial the customer)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crm_core.adapters.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("extension", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("customer_name", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("refusal", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("settled_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_call_requests_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_call_requests_task_id_tasks"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_call_requests_requester_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_requests")),
    )
    op.create_index(op.f("ix_call_requests_deal_id"), "call_requests", ["deal_id"], unique=False)
    op.create_index(
        "ix_call_requests_status_created_at", "call_requests", ["status", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_call_requests_status_created_at", table_name="call_requests")
    op.drop_index(op.f("ix_call_requests_deal_id"), table_name="call_requests")
    op.drop_table("call_requests")
