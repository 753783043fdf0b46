"""a seller's open deals read from the index alone: ``ix_deals_owner_open_activity`` also holds
``follow_up_due_at``, so /deals counts the open deals and those needing a follow-up, and orders its
page, without reading the deals' rows (only the page's eight are read)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 06:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_deals_owner_open_activity", table_name="deals")
    op.create_index(
        "ix_deals_owner_open_activity",
        "deals",
        ["owner_id", "closed_at", "last_activity_at", "follow_up_due_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_deals_owner_open_activity", table_name="deals")
    op.create_index("ix_deals_owner_open_activity", "deals", ["owner_id", "closed_at", "last_activity_at"])
