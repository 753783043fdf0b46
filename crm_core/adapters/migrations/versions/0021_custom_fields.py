"""field_definitions, deal_field_values, contact_field_values: the team's own fields and their values

A field's values are kept one per row (a multi-choice has several rows), indexed by (key, value), so
that reports group deals by a choice field without reading every deal.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 22:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crm_core.adapters.types import JsonDoc

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "field_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=8), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("names", JsonDoc, nullable=False),
        sa.Column("choices", JsonDoc, nullable=False),
        sa.Column("required_from", sa.String(length=64), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_definitions")),
        sa.UniqueConstraint("key", name=op.f("uq_field_definitions_key")),
    )
    for owner, parent in (("deal", "deals"), ("contact", "contacts")):
        table = f"{owner}_field_values"
        op.create_table(
            table,
            sa.Column(f"{owner}_id", sa.Integer(), nullable=False),
            sa.Column("key", sa.String(length=40), nullable=False),
            sa.Column("value", sa.String(length=500), nullable=False),
            sa.ForeignKeyConstraint(
                [f"{owner}_id"],
                [f"{parent}.id"],
                name=op.f(f"fk_{table}_{owner}_id_{parent}"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint(f"{owner}_id", "key", "value", name=op.f(f"pk_{table}")),
        )
        op.create_index(f"ix_{table}_key_value", table, ["key", "value"], unique=False)


def downgrade() -> None:
    for table in ("contact_field_values", "deal_field_values"):
        op.drop_index(f"ix_{table}_key_value", table_name=table)
        op.drop_table(table)
    op.drop_table("field_definitions")
