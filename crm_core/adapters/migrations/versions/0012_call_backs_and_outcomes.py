"""call-backs and outcomes: a call-back's number and attempts, a call's outcome

A call-back task carries the number it is about (``tasks.phone``) and counts the calls to it that did
not connect (``tasks.attempts``); older call-backs get the number their text names ("Call back
+7 495 123-45-67"), else their deal's contact's. An answered call keeps how it ended
(``calls.outcome``, ``calls.outcome_at``); calls are read by when they started for the calls report.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crm_core.adapters.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_tasks = sa.table(
    "tasks",
    sa.column("id", sa.Integer),
    sa.column("deal_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("text", sa.String),
    sa.column("phone", sa.String),
)
_deals = sa.table("deals", sa.column("id", sa.Integer), sa.column("contact_id", sa.Integer))
_contacts = sa.table("contacts", sa.column("id", sa.Integer), sa.column("phone", sa.String))
PREFIX = "Call back "


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index("ix_tasks_phone_open", ["phone", "done_at"], unique=False)
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("outcome_at", crm_core.adapters.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_calls_started_at", ["started_at"], unique=False)
    _number_the_call_backs()


def _number_the_call_backs() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_tasks.c.id, _tasks.c.text, _contacts.c.phone)
        .select_from(
            _tasks.join(_deals, _deals.c.id == _tasks.c.deal_id).outerjoin(
                _contacts, _contacts.c.id == _deals.c.contact_id
            )
        )
        .where(_tasks.c.kind == "call_back")
    ).all()
    for task_id, text, contact_phone in rows:
        phone = _number_in(text) or contact_phone
        if phone:
            bind.execute(_tasks.update().where(_tasks.c.id == task_id).values(phone=phone))


def _number_in(text: str) -> str | None:
    """The E.164 number of "Call back +7 495 123-45-67" (the text the CRM wrote), else ``None``."""
    if not text.startswith(PREFIX):
        return None
    rest = text[len(PREFIX) :].strip()
    digits = "".join(c for c in rest if c.isdigit())
    if not rest.startswith("+") or not 7 <= len(digits) <= 15:
        return None
    return "+" + digits


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_started_at")
        batch_op.drop_column("outcome_at")
        batch_op.drop_column("outcome")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_phone_open")
        batch_op.drop_column("attempts")
        batch_op.drop_column("phone")
