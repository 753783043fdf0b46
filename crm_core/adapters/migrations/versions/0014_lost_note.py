"""deals.lost_note: a deal lost for "Other" keeps the reason and the seller's words apart

The words were stored inside the reason, as "Other: <words>", in the deal and in its loss's line of
history; both are split here into the reason ("Other") and the note (the words).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 05:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crm_core.adapters.types import JsonDoc

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OTHER = "Other"
PREFIX = OTHER + ": "

_deals = sa.table(
    "deals",
    sa.column("id", sa.Integer),
    sa.column("lost_reason", sa.String),
    sa.column("lost_note", sa.String),
)
_events = sa.table(
    "deal_events",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("data", JsonDoc),
)


def upgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lost_note", sa.String(length=200), nullable=True))
    bind = op.get_bind()
    deals = bind.execute(
        sa.select(_deals.c.id, _deals.c.lost_reason).where(_deals.c.lost_reason.startswith(PREFIX))
    ).all()
    for deal_id, reason in deals:
        note = reason[len(PREFIX) :].strip() or None
        bind.execute(_deals.update().where(_deals.c.id == deal_id).values(lost_reason=OTHER, lost_note=note))
    for event_id, data in bind.execute(
        sa.select(_events.c.id, _events.c.data).where(_events.c.kind == "lost")
    ):
        reason = (data or {}).get("reason")
        if isinstance(reason, str) and reason.startswith(PREFIX):
            note = reason[len(PREFIX) :].strip()
            split = {**data, "reason": OTHER} | ({"note": note} if note else {})
            bind.execute(_events.update().where(_events.c.id == event_id).values(data=split))


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(
        _deals.update()
        .where(_deals.c.lost_note.is_not(None))
        .values(lost_reason=sa.func.substr(_deals.c.lost_reason + ": " + _deals.c.lost_note, 1, 200))
    )
    for event_id, data in bind.execute(
        sa.select(_events.c.id, _events.c.data).where(_events.c.kind == "lost")
    ):
        if (data or {}).get("note"):
            joined = {k: v for k, v in data.items() if k != "note"}
            joined["reason"] = f"{data.get('reason')}: {data['note']}"[:200]
            bind.execute(_events.update().where(_events.c.id == event_id).values(data=joined))
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_column("lost_note")
