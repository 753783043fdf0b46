"""The seller's morning plan: one message with the day — what is due now, what comes later today, the
deals waiting too long — and a button to act on each, so the start of the day is not a burst of notices."""

from __future__ import annotations

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.features.cards import TASK_KIND_ICON as KIND_ICON
from bot.core.features.cards import stage_name, task_text
from bot.core.features.deal_view import deal_label
from bot.core.features.funnel_picks import funnel_line
from bot.core.features.tasks import postpone, task_label
from bot.core.i18n import Tr, h, isolate
from bot.core.renderers import Outgoing
from bot.core.routing import Router
from bot.core.views import Button, Reply, View, short
from bot.core.when import MORNING
from bot.core.widths import pack
from crm_core.domain import notifications as notes
from crm_core.domain.deals import Deal
from crm_core.domain.tasks import Task
from crm_core.reports.digest import MorningPlan, Nudge

router = Router("morning")
PAGE = 3  # the due items (tasks, then waiting deals) whose buttons one page of the plan holds
SHOWN = 15  # lines of each part of the plan's text


def nudge_line(tr: Tr, nudge: Nudge) -> str:
    if nudge.kind == "inbox":
        return "📥 " + tr.ngettext(
            "The inbox has {n} unsorted deal — sort it first.",
            "The inbox has {n} unsorted deals — sort them first.",
            nudge.count,
        )
    assert nudge.previous is not None
    return "👉 " + tr(
        "Nothing is in {empty} — push the deals in {full}.",
        empty=stage_name(nudge.stage, tr),
        full=stage_name(nudge.previous, tr),
    )


def task_line(ctx: ChatContext, task: Task) -> str:
    deal, when = isolate(h(short(task.deal_title or "", 40))), ctx.tr.when(task.due_at, now=ctx.now)
    return f"{KIND_ICON[task.kind]} {task_text(task, ctx.tr)} — <i>{deal}</i> · {when}"


def _summary(tr: Tr, due: int, later: int, waiting: int) -> str:
    parts = [
        tr.ngettext("{n} task due", "{n} tasks due", due) if due else "",
        tr.ngettext("{n} more later today", "{n} more later today", later) if later else "",
        tr.ngettext("{n} deal waiting", "{n} deals waiting", waiting) if waiting else "",
    ]
    return " · ".join(p for p in parts if p)


def morning_view(ctx: ChatContext, plan: MorningPlan, page: int = 0) -> View:
    """The day's plan: the counts, then each part; buttons for a page of what is due (a task: open its
    deal, done, an hour later, tomorrow morning; a waiting deal: open its card), then the rest."""
    tr, now = ctx.tr, ctx.now
    due = [t for t in plan.tasks if t.due_at <= now]
    later = [t for t in plan.tasks if t.due_at > now]
    lines = ["☀️ " + tr("Good morning, {name}! Your day:", name=ctx.user.name)]
    if summary := _summary(tr, len(due), len(later), len(plan.stale)):
        lines.append(summary)
    if due:
        lines += ["", "<b>" + tr("Due now") + "</b>", *(task_line(ctx, t) for t in due[:SHOWN])]
    if later:
        lines += ["", "<b>" + tr("Later today") + "</b>", *(task_line(ctx, t) for t in later[:SHOWN])]
    if plan.stale:
        lines += ["", "<b>" + tr("Deals waiting for you") + "</b>"]
        lines += [
            f"⏳ {isolate(h(d.title))} — {stage_name(d.stage, tr)}, "
            + tr("{time} in stage", time=tr.days(now - d.stage_entered_at))
            for d in plan.stale[:SHOWN]
        ]
    if not plan.tasks and not plan.stale:
        lines.append(tr("Nothing overdue — a good day to move deals forward."))
    hints = [(n.pipeline, nudge_line(tr, n.nudge)) for n in plan.nudges]
    if plan.pipelines > 1:  # each hint under the funnel it is about: stage names are each funnel's own
        for pipeline, hint in hints:
            lines += ["", funnel_line(pipeline), hint]
    else:
        lines += [line for _, hint in hints for line in ("", hint)]
    items: list[Task | Deal] = [*due, *plan.stale]
    page = max(0, min(page, (len(items) - 1) // PAGE)) if items else 0
    buttons: list[list[Button]] = []
    for item in items[page * PAGE : (page + 1) * PAGE]:
        buttons += _item_buttons(ctx, item, page)
    nav = []
    if page:
        nav.append(Button.act("◀", A.PlanPage(page - 1)))
    if (page + 1) * PAGE < len(items):
        nav.append(
            Button.act(tr.label("More ({n})", n=len(items) - (page + 1) * PAGE) + " ▶", A.PlanPage(page + 1))
        )
    buttons += [nav] if nav else []
    buttons += [
        [Button.act("🗓 " + tr("Tasks"), A.Tasks()), Button.act("📋 " + tr("My deals"), A.MyDeals("0"))],
        [Button.act("🔕 " + tr("Stop the morning plan"), A.DigestSet("mp0"))],
    ]
    return View.of(lines, buttons)


def _item_buttons(ctx: ChatContext, item: Task | Deal, page: int) -> list[list[Button]]:
    back = f"mp.{page}"
    if not isinstance(item, Task):  # a deal waiting too long: its card, with the way back here
        return [[Button.act(deal_label(item, ctx)[0], A.CardFrom(item.id, back))]]
    tr, t = ctx.tr, item.id
    actions = [
        Button.act("✅ " + tr.label("Done"), A.PlanTask(t, "d", page)),
        Button.act("💤 " + tr.label("+1 h"), A.PlanTask(t, "1h", page)),
        Button.act(f"🌅 {MORNING:%H:%M}", A.PlanTask(t, "tm", page)),  # tomorrow morning
    ]
    return [
        [Button.act(task_label(item, ctx), A.CardFrom(item.deal_id, back))],
        *pack((b.text, b) for b in actions),
    ]


async def plan_view(ctx: ChatContext, page: int = 0) -> View:
    return morning_view(ctx, await ctx.crm.reports.morning_plan(actor=ctx.user), page)


async def morning_plan(ctx: ChatContext, p: notes.MorningPlan) -> list[Outgoing]:
    """The day's plan, as it stands when it goes out (what the tick took in is in it)."""
    return [await plan_view(ctx)]


@router.button(A.PlanPage)
async def on_plan_page(ctx: ChatContext, p: A.PlanPage) -> Reply:
    """Another page of what is due, in the plan's own message."""
    return Reply().edit(ctx.message_id, await plan_view(ctx, p.page))


@router.button(A.PlanTask)
async def on_plan_task(ctx: ChatContext, p: A.PlanTask) -> Reply:
    """Do a task from the plan, or push it later, and redraw the plan in place."""
    task_id, option, page = p.task_id, p.option, p.page
    if option == "d":
        await ctx.crm.tasks.complete(task_id=task_id, actor=ctx.user)
        text = "✅ " + ctx.tr("Done.")
    else:
        task = await postpone(ctx, task_id, option)
        text = "💤 " + ctx.tr("Moved to {when}.", when=ctx.tr.when(task.due_at, now=ctx.now))
    return Reply().edit(ctx.message_id, await plan_view(ctx, page)).answer(text)


@router.command("morning")
async def on_morning(ctx: ChatContext, args: str) -> Reply:
    """Show the morning plan now, and turn it on (today's will not come again)."""
    reply = Reply().send(await plan_view(ctx))
    await ctx.crm.followups.morning_plan_shown(actor=ctx.user)
    return reply
