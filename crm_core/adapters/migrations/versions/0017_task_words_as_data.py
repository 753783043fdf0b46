"""tasks.text holds only what a person typed: call-backs and plain reminders are worded by each reader

A call-back's text was the English "Call back +7 495 ...", and a reminder's the words "Follow up" in
the language of whoever set it; both are data now (the task's kind, and a call-back's number in
``tasks.phone``), so a Russian or an Arabic chat says them in its own words. Their texts are emptied
here; no column changes (a task's kind is a string: the new kinds need no schema).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

CALL_BACK_PREFIX = "Call back "
# "Follow up" as the chat wrote it in each of its languages (bot/locales), when a reminder was set.
FOLLOW_UP_WORDS = ("Follow up", "Связаться с клиентом", "متابعة العميل")

_tasks = sa.table(
    "tasks",
    sa.column("kind", sa.String),
    sa.column("text", sa.String),
    sa.column("phone", sa.String),
)


def upgrade() -> None:
    op.execute(
        _tasks.update()
        .where(
            _tasks.c.kind == "call_back",
            _tasks.c.phone.is_not(None),
            _tasks.c.text.startswith(CALL_BACK_PREFIX, autoescape=True),
        )
        .values(text="")
    )
    op.execute(
        _tasks.update()
        .where(_tasks.c.kind == "follow_up", _tasks.c.text.in_(FOLLOW_UP_WORDS))
        .values(text="")
    )


def downgrade() -> None:
    """The texts come back in English: a call-back from its number, a reminder as "Follow up"."""
    op.execute(
        _tasks.update()
        .where(_tasks.c.kind == "call_back", _tasks.c.phone.is_not(None), _tasks.c.text == "")
        .values(text=sa.literal(CALL_BACK_PREFIX) + _tasks.c.phone)
    )
    op.execute(
        _tasks.update()
        .where(_tasks.c.kind == "follow_up", _tasks.c.text == "")
        .values(text=FOLLOW_UP_WORDS[0])
    )
