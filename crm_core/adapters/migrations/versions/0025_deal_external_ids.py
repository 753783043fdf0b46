"""deal_external_ids: an imported deal's product and id there, so that a re-import updates it

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 23:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crm_core.adapters.types

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deal_external_ids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("imported_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_deal_external_ids_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_external_ids")),
        sa.UniqueConstraint("source", "external_id", name=op.f("uq_deal_external_ids_source_external_id")),
    )
    op.create_index("ix_deal_external_ids_deal_id", "deal_external_ids", ["deal_id"])


def downgrade() -> None:
    op.drop_index("ix_deal_external_ids_deal_id", table_name="deal_external_ids")
    op.drop_table("deal_external_ids")
