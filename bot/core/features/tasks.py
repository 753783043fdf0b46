"""/tasks: what the user promised to do, by due time, with Done and Snooze."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.features.cards import TASK_KIND_ICON as KIND_ICON
from bot.core.features.cards import task_text
from bot.core.features.remind import minutes_of
from bot.core.i18n import h, isolate
from bot.core.renderers import Outgoing, renders
from bot.core.routing import Router
from bot.core.views import Button, Reply, View
from bot.core.when import MORNING, from_epoch_minutes, morning_in
from bot.core.widths import pack, room, shorten, text_px
from crm_core.domain.errors import InvalidInput, NotFound
from crm_core.domain.horizon import within_horizon
from crm_core.domain.notifications import NoteKind
from crm_core.domain.schedule import outside_hours
from crm_core.domain.tasks import Task, TaskKind

router = Router("tasks")
SHOWN = 20
PAGE = 5


def task_label(task: Task, ctx: ChatContext) -> str:
    """A task as a button: what and when, the time whole, the words cut at a word if they must be."""
    late = "⚠️ " if task.due_at <= ctx.now else ""
    when = f" · {late}{ctx.tr.when(task.due_at, now=ctx.now)}"
    head = f"{KIND_ICON[task.kind]} "
    what = html.unescape(task_text(task, ctx.tr))
    return head + shorten(what, room(1) - text_px(head + when)) + when


async def tasks_view(ctx: ChatContext, page: int = 0) -> View:
    """My open tasks, soonest first: each a readable line, its own button to the deal and its actions
    right under it (done, an hour later, tomorrow morning)."""
    tr, now = ctx.tr, ctx.now
    tasks = await ctx.crm.tasks.open_tasks(actor=ctx.user, limit=SHOWN + 1)
    page = max(0, min(page, (min(len(tasks), SHOWN) - 1) // PAGE))
    overdue = sum(t.due_at <= now for t in tasks)
    lines = [f"🗓 <b>{tr('My tasks')}</b>"]
    if overdue:
        lines.append("⚠️ " + tr.ngettext("{n} overdue", "{n} overdue", overdue))
    if not tasks:
        lines.append(tr("Nothing planned. Add reminders from a deal's card."))
    buttons: list[list[Button]] = []
    where = f"l{page}"
    for task in tasks[:SHOWN][page * PAGE : (page + 1) * PAGE]:
        late = " ⚠️" if task.due_at <= now else ""
        lines.append(
            f"{KIND_ICON[task.kind]} {task_text(task, tr)}"
            f" — <i>{isolate(h(task.deal_title or ''))}</i> · {tr.when(task.due_at, now=now)}{late}"
        )
        buttons.append([Button.act(task_label(task, ctx), A.Card(task.deal_id))])
        actions = [
            *_call_button(task, ctx),
            Button.act("✅ " + tr.label("Done"), A.TaskDone(task.id, where)),
            Button.act("💤 " + tr.label("+1 h"), A.TaskSnooze(task.id, "1h", where)),
            Button.act(f"🌅 {MORNING:%H:%M}", A.TaskSnooze(task.id, "tm", where)),  # tomorrow morning
        ]
        buttons += pack((b.text, b) for b in actions)
    nav = []
    if page:
        nav.append(Button.act("◀", A.TasksPage(page - 1)))
    if (page + 1) * PAGE < min(len(tasks), SHOWN):
        nav.append(Button.act("▶", A.TasksPage(page + 1)))
    buttons.append(nav)
    if len(tasks) > SHOWN:
        lines.append(tr("…and more."))
    return View.of(lines, buttons)


def _call_button(task: Task, ctx: ChatContext) -> list[Button]:
    """ "📞 Call" on a call-back with a number, when a phone system places calls: the seller's phone
    rings, then the customer's (the call that connects does the task)."""
    if task.kind is not TaskKind.CALL_BACK or not task.phone or not ctx.crm.config.places_calls:
        return []
    return [Button.act("📞 " + ctx.tr.label("Call"), A.Dial(task.deal_id, task.id))]


@router.command("tasks")
async def on_tasks(ctx: ChatContext, args: str) -> Reply:
    """List my open tasks, overdue ones marked."""
    return Reply().send(await tasks_view(ctx))


@router.button(A.Tasks)
async def on_tasks_button(ctx: ChatContext, p: A.Tasks) -> Reply:
    return Reply().edit(ctx.message_id, await tasks_view(ctx))


@router.button(A.TasksPage)
async def on_tasks_page(ctx: ChatContext, p: A.TasksPage) -> Reply:
    """Another page of my tasks."""
    return Reply().edit(ctx.message_id, await tasks_view(ctx, p.page))


def _list_page(where: str) -> int | None:
    """The page of the list a task's button is on ("l2"), or None: a notification's button ("n")."""
    if where == "l" or (where.startswith("l") and where[1:].isdigit()):
        return int(where[1:] or 0)
    return None


def task_done_view(ctx: ChatContext, task: Task, text: str) -> View:
    """A task notification after its button: what happened, and the way to its deal."""
    open_deal = Button.act("📂 " + ctx.tr("Open the deal"), A.Card(task.deal_id))
    return View.of([f"{text} {task_text(task, ctx.tr)}"], [[open_deal]])


@router.button(A.TaskDone)
async def on_done(ctx: ChatContext, p: A.TaskDone) -> Reply:
    """Mark a task done; refresh the list, or the notification it came from."""
    task = await ctx.crm.tasks.complete(task_id=p.task_id, actor=ctx.user)
    text = "✅ " + ctx.tr("Done.")
    if (page := _list_page(p.where)) is not None:
        return Reply().edit(ctx.message_id, await tasks_view(ctx, page)).answer(text)
    return Reply().edit(ctx.message_id, task_done_view(ctx, task, text))


def _until(ctx: ChatContext, option: str) -> datetime:
    """When a task is pushed to: in an hour ("1h"), tomorrow morning ("tm"), or a time chosen from the
    working-hours question ("at<minutes>"); any other option is refused."""
    if option == "1h":
        return ctx.now + timedelta(hours=1)
    if option == "tm":
        return morning_in(1, ctx.now, ctx.user.timezone)
    if option.startswith("at") and option[2:].isdigit() and len(option) <= 14:
        return within_horizon("time", from_epoch_minutes(int(option[2:])), now=ctx.now)
    raise InvalidInput("time", option)


async def postpone(ctx: ChatContext, task_id: int, option: str) -> Task:
    """Push a task to later, as ``_until`` reads the option."""
    return await ctx.crm.tasks.postpone(task_id=task_id, until=_until(ctx, option), actor=ctx.user)


@router.button(A.TaskSnooze)
async def on_snooze(ctx: ChatContext, p: A.TaskSnooze) -> Reply:
    """Push a task to later: in an hour, or tomorrow morning; a time outside working hours is first
    offered for the next working morning ("at<minutes>": a time chosen from that question, kept)."""
    option, where = p.option, p.where
    until = _until(ctx, option)
    if not option.startswith("at"):
        morning = outside_hours(until, ctx.user.timezone, ctx.crm.config.working_hours)
        if morning is not None:
            task = await ctx.crm.tasks.get(task_id=p.task_id, actor=ctx.user)
            task.check_open()
            return Reply().edit(ctx.message_id, hours_question(ctx, task, until, morning, where))
    task = await ctx.crm.tasks.postpone(task_id=p.task_id, until=until, actor=ctx.user)
    text = "💤 " + ctx.tr("Moved to {when}.", when=ctx.tr.when(task.due_at, now=ctx.now))
    if (page := _list_page(where)) is not None:
        return Reply().edit(ctx.message_id, await tasks_view(ctx, page)).answer(text)
    return Reply().edit(ctx.message_id, task_done_view(ctx, task, text))


def hours_question(ctx: ChatContext, task: Task, until: datetime, morning: datetime, where: str) -> View:
    """A task pushed outside working hours: the next working morning instead, or that time kept."""
    tr, t = ctx.tr, task.id
    when, then = tr.when(until, now=ctx.now), tr.when(morning, now=ctx.now)
    text = tr("{when} is outside your working hours. Move it to {morning} instead?", when=when, morning=then)
    rows = [
        [Button.act("🌅 " + then, A.TaskSnooze(t, f"at{minutes_of(morning)}", where))],
        [
            Button.act(
                "⏰ " + tr.label("Keep {when}", when=when), A.TaskSnooze(t, f"at{minutes_of(until)}", where)
            )
        ],
    ]
    if (page := _list_page(where)) is not None:
        rows.append([Button.act("⬅ " + tr.label("Back to the list"), A.TasksPage(page))])
    else:
        rows.append([Button.act("📂 " + tr.label("Open the deal"), A.Card(task.deal_id))])
    return View.of([f"{KIND_ICON[task.kind]} <b>{task_text(task, tr)}</b>", "🌙 " + text], rows)


# -- due now: the notification and the call-back done ------------------------------------------


@renders(NoteKind.TASK_DUE)
async def task_due(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    tr = ctx.tr
    try:
        task = await ctx.crm.tasks.get(task_id=int(p["task_id"]), actor=ctx.user)
    except NotFound:
        return []
    if not task.is_open:  # done, or its deal was won or lost since it was queued: nothing to do
        return []
    head = "🔁 " + tr("Still to do:") if p.get("repeat") else "⏰ " + tr("Due now:")
    lines = [f"{head} <b>{task_text(task, tr)}</b>", f"📌 {h(task.deal_title or '')}"]
    t = task.id
    buttons = [
        [
            Button.act("✅ " + tr("Done"), A.TaskDone(t, "n")),
            Button.act("💤 " + tr("In 1 hour"), A.TaskSnooze(t, "1h", "n")),
        ],
        [
            Button.act("🌅 " + tr("Tomorrow"), A.TaskSnooze(t, "tm", "n")),
            Button.act("📂 " + tr("Open the deal"), A.Card(task.deal_id)),
        ],
    ]
    return [View.of(lines, buttons)]


@router.button(A.CallBackDone)
async def on_called_back(ctx: ChatContext, p: A.CallBackDone) -> Reply:
    """The seller called the customer back."""
    task = await ctx.crm.tasks.complete(task_id=p.task_id, actor=ctx.user)
    return Reply().edit(
        ctx.message_id,
        View.of(
            ["✅ " + ctx.tr("Called back: {text}", text=task_text(task, ctx.tr))],
            [[Button.act("📂 " + ctx.tr("Open the deal"), A.Card(task.deal_id))]],
        ),
    )
