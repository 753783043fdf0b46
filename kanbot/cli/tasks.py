"""`kanbot task ...`: call-backs and follow-ups."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import typer

from crm_core.domain.errors import InvalidInput
from crm_core.domain.tasks import REMINDER_KINDS, TaskKind
from crm_core.services import Crm
from kanbot.cli.common import AS_OPTION, JSON_OPTION, as_user, print_json, print_table, with_crm
from kanbot.cli.render import task_json, task_words

app = typer.Typer(help="Tasks: list, add, mark done.", no_args_is_help=True)


def parse_moment(raw: str, *, tz: str) -> datetime:
    """An ISO 8601 time; without an offset it is read in ``tz`` (the user's time zone)."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            "time", raw, detail="use ISO 8601, e.g. 2026-12-01T10:00 or 2026-12-01T10:00+03:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz))


PLANNED_KINDS = (TaskKind.CUSTOM, *REMINDER_KINDS)  # call_back is the system's, follow_up the past's


def planned_kind(raw: str) -> TaskKind:
    """The --kind of a task a person plans."""
    kinds = {k.value: k for k in PLANNED_KINDS}
    if raw.strip().lower() not in kinds:
        raise InvalidInput("kind", raw, detail="use " + ", ".join(kinds))
    return kinds[raw.strip().lower()]


@app.command("list")
def list_tasks(
    actor_id: int = AS_OPTION,
    everyone: bool = typer.Option(False, "--all", help="Everyone's open tasks (bosses only)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Open tasks by due time."""

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        tasks = await crm.tasks.open_tasks(actor=actor, everyone=everyone)
        if as_json:
            print_json([task_json(t) for t in tasks])
            return
        now = crm.clock.now()
        print_table(
            ["id", "due", "deal", "task", "assignee", ""],
            [
                [
                    t.id,
                    t.due_at.astimezone(actor.tz).strftime("%Y-%m-%d %H:%M"),
                    f"#{t.deal_id} {t.deal_title}",
                    task_words(t),
                    t.assignee_name or "—",
                    "OVERDUE" if t.is_overdue(now) else "",
                ]
                for t in tasks
            ],
        )

    with_crm(go)


@app.command("add")
def add(
    deal_id: int = typer.Argument(...),
    due: str = typer.Option(..., help="ISO 8601 time; without an offset, your time zone."),
    text: str = typer.Option("", help="What to do (optional with a --kind other than custom)."),
    kind: str = typer.Option(
        "custom", help="What it is about: custom (its text says), call, meeting, email or other."
    ),
    actor_id: int = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Plan a task on a deal."""

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        task = await crm.tasks.add(
            deal_id=deal_id,
            due_at=parse_moment(due, tz=actor.timezone),
            text=text,
            kind=planned_kind(kind),
            actor=actor,
        )
        print_json(task_json(task)) if as_json else typer.echo(f"Task {task.id} planned on deal {deal_id}.")

    with_crm(go)


@app.command("done")
def done(task_id: int = typer.Argument(...), actor_id: int = AS_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Mark a task done."""

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        task = await crm.tasks.complete(task_id=task_id, actor=actor)
        print_json(task_json(task)) if as_json else typer.echo(f"Task {task.id} done.")

    with_crm(go)
