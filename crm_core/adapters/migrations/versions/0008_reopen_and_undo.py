"""reopen and undo: where a closed deal reopens, which stage event an undo undoes, cancelled tasks

A won or lost deal keeps the open stage it was closed from (``deals.closed_from_stage_id``), filled
here from each closed deal's last close (the inbox when that stage is gone, or the deal was imported
closed). A move back within a day points at the move it undoes (``deal_events.undoes_event_id``).
A task of a won or lost deal is no longer to do: the open ones are cancelled by the close
(``tasks.cancelled_at``, and a ``task_cancelled`` line in their deal's history).

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crm_core.adapters.types
from crm_core.adapters.types import JsonDoc, UtcDateTime

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

_deals = sa.table(
    "deals",
    sa.column("id", sa.Integer),
    sa.column("pipeline_id", sa.Integer),
    sa.column("stage_id", sa.Integer),
    sa.column("closed_at", UtcDateTime),
    sa.column("closed_from_stage_id", sa.Integer),
)
_stages = sa.table(
    "stages",
    sa.column("id", sa.Integer),
    sa.column("pipeline_id", sa.Integer),
    sa.column("kind", sa.String),
)
_events = sa.table(
    "deal_events",
    sa.column("id", sa.Integer),
    sa.column("deal_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("at", UtcDateTime),
    sa.column("actor_system", sa.String),
    sa.column("from_stage_id", sa.Integer),
    sa.column("data", JsonDoc),
)
_tasks = sa.table(
    "tasks",
    sa.column("id", sa.Integer),
    sa.column("deal_id", sa.Integer),
    sa.column("text", sa.String),
    sa.column("done_at", UtcDateTime),
    sa.column("cancelled_at", UtcDateTime),
)
OPEN_KINDS = ("inbox", "open")


def upgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_from_stage_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("deal_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("undoes_event_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_deal_events_undoes_event_id"), ["undoes_event_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_deal_events_undoes_event_id_deal_events"),
            "deal_events",
            ["undoes_event_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cancelled_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=True)
        )
    _remember_where_closed_deals_reopen()
    _cancel_tasks_of_closed_deals()


def _remember_where_closed_deals_reopen() -> None:
    last_close = (
        sa.select(_events.c.from_stage_id)
        .select_from(_events.join(_stages, _stages.c.id == _events.c.from_stage_id))
        .where(
            _events.c.deal_id == _deals.c.id,
            _events.c.kind.in_(["won", "lost"]),
            _stages.c.kind.in_(OPEN_KINDS),
        )
        .order_by(_events.c.at.desc(), _events.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    inbox = (
        sa.select(_stages.c.id)
        .where(_stages.c.pipeline_id == _deals.c.pipeline_id, _stages.c.kind == "inbox")
        .limit(1)
        .scalar_subquery()
    )
    op.execute(
        _deals.update()
        .where(_deals.c.closed_at.is_not(None))
        .values(closed_from_stage_id=sa.func.coalesce(last_close, inbox))
    )


def _cancel_tasks_of_closed_deals() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_tasks.c.id, _tasks.c.deal_id, _tasks.c.text, _deals.c.closed_at, _stages.c.kind)
        .select_from(
            _tasks.join(_deals, _deals.c.id == _tasks.c.deal_id).join(
                _stages, _stages.c.id == _deals.c.stage_id
            )
        )
        .where(_tasks.c.done_at.is_(None), _deals.c.closed_at.is_not(None))
        .order_by(_tasks.c.id)
    ).all()
    for task_id, deal_id, text, closed_at, kind in rows:
        bind.execute(
            _tasks.update().where(_tasks.c.id == task_id).values(done_at=closed_at, cancelled_at=closed_at)
        )
        bind.execute(
            _events.insert().values(
                deal_id=deal_id,
                kind="task_cancelled",
                at=closed_at,
                actor_system="upgrade: tasks of closed deals",
                data={"task_id": task_id, "text": text, "closed_as": kind},
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("cancelled_at")
    with op.batch_alter_table("deal_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_deal_events_undoes_event_id_deal_events"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_deal_events_undoes_event_id"))
        batch_op.drop_column("undoes_event_id")
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_column("closed_from_stage_id")
