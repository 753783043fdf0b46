"""/tasks: what the user promised to do, by due time, with Done and Snooze."""

from __future__ import annotations

from datetime import timedelta

from bot.core import actions as A
from bot.core.codec import Payload
from bot.core.context import ChatContext
from bot.core.features.cards import task_text
from bot.core.i18n import h
from bot.core.routing import Router
from bot.core.views import Button, Reply, View, short
from bot.core.when import morning_in
from crm_core.domain.errors import InvalidInput
from crm_core.domain.tasks import Task, TaskKind

router = Router("tasks")
SHOWN = 20
KIND_ICON = {TaskKind.CALL_BACK: "📞", TaskKind.FOLLOW_UP: "⏰", TaskKind.CUSTOM: "📌"}


async def tasks_view(ctx: ChatContext) -> View:
    tr, now = ctx.tr, ctx.now
    tasks = await ctx.crm.tasks.open_tasks(actor=ctx.user, limit=SHOWN + 1)
    overdue = sum(t.due_at <= now for t in tasks)
    lines = [f"✅ <b>{tr('My tasks')}</b>"]
    if overdue:
        lines.append("⚠️ " + tr.ngettext("{n} overdue", "{n} overdue", overdue))
    if not tasks:
        lines.append(tr("Nothing planned. Add reminders from a deal's card."))
    buttons = []
    for number, task in enumerate(tasks[:SHOWN], start=1):
        late = " ⚠️" if task.due_at <= now else ""
        lines.append(
            f"{number}. {KIND_ICON[task.kind]} {task_text(task, tr)}"
            f" — <i>{h(short(task.deal_title or '', 40))}</i> · {tr.when(task.due_at, now=now)}{late}"
        )
        buttons.append(
            [
                Button.act(f"✅ {number}", A.TASK_DONE, task.id, "l"),
                Button.act(f"💤 {number}", A.TASK_SNOOZE, task.id, "1h", "l"),
                Button.act(f"🌅 {number}", A.TASK_SNOOZE, task.id, "tm", "l"),
                Button.act(f"📂 {number}", A.CARD, task.deal_id),
            ]
        )
    if tasks:
        lines.append("")
        lines.append("<i>" + tr("✅ done · 💤 in 1 hour · 🌅 tomorrow · 📂 open the deal") + "</i>")
    if len(tasks) > SHOWN:
        lines.append(tr("…and more."))
    return View.of(lines, buttons)


@router.command("tasks")
async def on_tasks(ctx: ChatContext, args: str) -> Reply:
    """List my open tasks, overdue ones marked."""
    return Reply().send(await tasks_view(ctx))


@router.button(A.TASKS)
async def on_tasks_button(ctx: ChatContext, p: Payload) -> Reply:
    return Reply().edit(ctx.message_id, await tasks_view(ctx))


def task_done_view(ctx: ChatContext, task: Task, text: str) -> View:
    """A task notification after its button: what happened, and the way to its deal."""
    open_deal = Button.act("📂 " + ctx.tr("Open the deal"), A.CARD, task.deal_id)
    return View.of([f"{text} {task_text(task, ctx.tr)}"], [[open_deal]])


@router.button(A.TASK_DONE)
async def on_done(ctx: ChatContext, p: Payload) -> Reply:
    """Mark a task done; refresh the list, or the notification it came from."""
    task = await ctx.crm.tasks.complete(task_id=p.num(0), actor=ctx.user)
    text = "✅ " + ctx.tr("Done.")
    if p.token(1) == "l":
        return Reply().edit(ctx.message_id, await tasks_view(ctx)).answer(text)
    return Reply().edit(ctx.message_id, task_done_view(ctx, task, text))


@router.button(A.TASK_SNOOZE)
async def on_snooze(ctx: ChatContext, p: Payload) -> Reply:
    """Push a task to later: in an hour, or tomorrow morning."""
    option = p.token(1)
    if option == "1h":
        until = ctx.now + timedelta(hours=1)
    elif option == "tm":
        until = morning_in(1, ctx.now, ctx.user.timezone)
    else:
        raise InvalidInput("time", option)
    task = await ctx.crm.tasks.postpone(task_id=p.num(0), until=until, actor=ctx.user)
    text = "💤 " + ctx.tr("Moved to {when}.", when=ctx.tr.when(task.due_at, now=ctx.now))
    if p.token(2) == "l":
        return Reply().edit(ctx.message_id, await tasks_view(ctx)).answer(text)
    return Reply().edit(ctx.message_id, task_done_view(ctx, task, text))
