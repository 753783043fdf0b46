"""Follow-ups in the chat: stale-deal reminders, escalations, due tasks, the morning plan, the digest."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.core import actions as A
from bot.core.chart import drawn, loss_chart
from bot.core.codec import Payload
from bot.core.context import ChatContext
from bot.core.errors import refusal_reason
from bot.core.events import SharedContact, Text
from bot.core.features.card import (
    ask_again,
    back_to_card,
    details,
    passed_date,
    question_view,
    show_card,
)
from bot.core.features.cards import deal_card, deal_label, stage_label, stage_name, task_text
from bot.core.features.remind import hours_choice, planned
from bot.core.features.reports import calls_lines, conversion_lines, funnel_lines, sellers_lame_lines
from bot.core.i18n import Tr, h
from bot.core.renderers import Outgoing, renders
from bot.core.routing import Router
from bot.core.views import Button, Reply, SendPhoto, Typing, View, fit
from bot.core.when import PassedDate, from_epoch_minutes, morning_in, parse_when
from bot.core.widths import by_words, fits, room, shorten, text_px
from crm_core.domain.conversations import Dialog
from crm_core.domain.deals import Priority
from crm_core.domain.errors import InvalidInput, NotFound, OutOfDate, Why
from crm_core.domain.horizon import within_horizon
from crm_core.domain.notifications import NoteKind
from crm_core.domain.schedule import outside_hours
from crm_core.reports.digest import Digest
from crm_core.reports.models import ActivitySummary

router = Router("followups")
SNOOZE_OPTIONS = {"1d": 1, "3d": 3, "1w": 7}
WHEN_QUESTIONS = {
    ("remind", "answer"),
    ("remind", "when"),
    ("remind", "hours"),
    ("snooze", "hours"),
    ("snooze", "date"),
}  # the questions a typed day answers


# -- stage reminders ----------------------------------------------------------------------------


@renders(NoteKind.STALE_REMINDER)
async def stale_reminder(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    """One stale deal: its card with the ways out; several: one message listing them (not a burst)."""
    tr, found = ctx.tr, []
    for deal_id in p.get("deal_ids", []):
        try:
            found.append(await details(ctx, int(deal_id)))
        except NotFound:
            continue
    found = [f for f in found if f.deal.is_stale(ctx.now)]  # not one handled since the tick queued it
    if not found:
        return []
    if len(found) == 1:
        deal = found[0].deal
        notice = "⏰ " + tr(
            "This deal has sat in {stage} for {time}: move it on, snooze it, or let it go.",
            stage=stage_name(deal.stage, tr),
            time=tr.days(ctx.now - deal.stage_entered_at),
        )
        return [reminder_card(ctx, found[0], notice)]
    lines = ["⏰ " + tr.ngettext("{n} deal needs a follow-up:", "{n} deals need a follow-up:", len(found))]
    buttons = []
    for item in found:
        deal = item.deal
        lines.append(
            f"• <b>{h(deal.title)}</b> — {stage_name(deal.stage, tr)}, "
            + tr("{time} in stage", time=tr.days(ctx.now - deal.stage_entered_at))
        )
        buttons.append([Button.act(deal_label(deal, ctx)[0], A.CARD, deal.id)])
    lines.append("<i>" + tr("Open a deal to move it on, snooze it, or let it go.") + "</i>")
    return [View.of(lines, buttons)]


def reminder_card(ctx: ChatContext, found: Any, notice: str) -> View:
    deal, tr = found.deal, ctx.tr
    card = deal_card(found, ctx, notice=notice)
    d, v = deal.id, deal.version
    following = found.pipeline.next_after(deal.stage)
    rows: list[list[Button]] = []
    if following is not None:
        rows.append(
            [
                Button.act(f"{stage_label(following, tr)} ▶", A.NEXT, d, v),
                Button.act("↔️ " + tr("Move to…"), A.MOVE_MENU, d, v),
            ]
        )
    rows.append(
        [
            Button.act("💤 " + tr("Snooze"), A.SNOOZE_MENU, d, v),
            Button.act("🔻 " + tr("Lower priority"), A.LOWER, d, v),
        ]
    )
    rows.append(
        [
            Button.act("🚫 " + tr("Lost"), A.LOST_MENU, d, v),
            Button.act("📂 " + tr("Open the card"), A.CARD, d),
        ]
    )
    return View(card.html, tuple(tuple(r) for r in rows))


@router.button(A.SNOOZE_MENU)
async def on_snooze_menu(ctx: ChatContext, p: Payload) -> Reply:
    """Offer how long to snooze the deal's reminders."""
    found = await details(ctx, p.num(0), p.num(1))
    d, v, tr = found.deal.id, found.deal.version, ctx.tr
    rows = [
        [
            Button.act(tr("1 day"), A.SNOOZE, d, v, "1d"),
            Button.act(tr("3 days"), A.SNOOZE, d, v, "3d"),
            Button.act(tr("A week"), A.SNOOZE, d, v, "1w"),
        ],
        [Button.act("📅 " + tr("Until a date…"), A.SNOOZE, d, v, "date")],
        back_to_card(ctx, d),
    ]
    return Reply().edit(
        ctx.message_id, View.of([f"<b>{h(found.deal.title)}</b>", tr("Snooze for how long?")], rows)
    )


@router.button(A.SNOOZE)
async def on_snooze(ctx: ChatContext, p: Payload) -> Reply:
    """Ask why the deal is snoozed (or until when, for a date)."""
    deal_id, version, option = p.num(0), p.num(1), p.token(2)
    await details(ctx, deal_id, version)
    data: dict[str, Any] = {"deal_id": deal_id, "version": version, "message_id": ctx.message_id}
    if option == "date":
        await ctx.crm.dialogs.put(ctx.user.telegram_id, flow="snooze", step="date", data=data)
        question = ctx.tr('Until when? For example "25.12", "next monday" or "in 2 weeks".')
        return Reply().edit(ctx.message_id, question_view(ctx, deal_id, [question]))
    if option not in SNOOZE_OPTIONS:
        raise InvalidInput("snooze time", option)
    return await _ask_until(ctx, data, morning_in(SNOOZE_OPTIONS[option], ctx.now, ctx.user.timezone))


async def _ask_until(
    ctx: ChatContext, data: dict[str, Any], until: datetime, *, insist: bool = False
) -> Reply:
    """Go on to the reason, unless ``until`` falls outside working hours: then first offer the next
    working morning, or to keep that time (``insist``: it was kept)."""
    morning = None if insist else outside_hours(until, ctx.user.timezone, ctx.crm.config.working_hours)
    if morning is None:
        return await _ask_reason(ctx, data, until)
    data = {**data, "until": until.isoformat()}
    dialog = await ctx.crm.dialogs.put(ctx.user.telegram_id, flow="snooze", step="hours", data=data)
    tr = ctx.tr
    text = tr(
        "{when} is outside your working hours. Snooze until {morning} instead?",
        when=tr.when(until, now=ctx.now),
        morning=tr.when(morning, now=ctx.now),
    )
    return ask_again(ctx, dialog, ["🌙 " + text], hours_choice(ctx, until, morning, dialog.draft))


async def _ask_reason(ctx: ChatContext, data: dict[str, Any], until: datetime) -> Reply:
    data = {**data, "until": until.isoformat()}
    dialog = await ctx.crm.dialogs.put(ctx.user.telegram_id, flow="snooze", step="reason", data=data)
    skip = [[Button.act("⏭ " + ctx.tr("No reason"), A.SNOOZE_DO, dialog.draft)]]
    text = ctx.tr(
        "Snoozing until {when}. Why? A few words for the history:", when=ctx.tr.when(until, now=ctx.now)
    )
    return ask_again(ctx, dialog, ["💤 " + text], skip)


async def _snooze(ctx: ChatContext, data: dict[str, Any], until: datetime, reason: str | None) -> Reply:
    """Snooze the deal and redraw its card where the question was asked."""
    deal_id, version = int(data["deal_id"]), int(data["version"])
    message_id = int(data["message_id"]) if data.get("message_id") else None
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    deal = await ctx.crm.deals.snooze(
        deal_id=deal_id, until=until, actor=ctx.user, reason=reason, expected_version=version
    )
    notice = "💤 " + ctx.tr("Snoozed until {when}.", when=ctx.tr.when(until, now=ctx.now))
    return Reply().edit(message_id, deal_card(await details(ctx, deal.id), ctx, notice=notice))


@router.button(A.SNOOZE_DO)
async def on_snooze_do(ctx: ChatContext, p: Payload) -> Reply:
    """Snooze as the question this button came with says, without a reason."""
    dialog = await ctx.crm.dialogs.confirmed(
        ctx.user.telegram_id, flow="snooze", draft=p.num(0), step="reason", what="question"
    )
    data = dialog.data
    until = datetime.fromisoformat(data["until"])
    return await _snooze(ctx, data, until, None)


@router.button(A.WHEN_AT)
async def on_when_at(ctx: ChatContext, p: Payload) -> Reply:
    """The day typed, next year: the answer to the question (a reminder's or a snooze's time) it came with."""
    dialog = await ctx.crm.dialogs.get(ctx.user.telegram_id)
    if dialog is None or dialog.draft != p.num(1) or (dialog.flow, dialog.step) not in WHEN_QUESTIONS:
        raise OutOfDate("question")
    when = within_horizon("time", from_epoch_minutes(p.num(0)), now=ctx.now)  # a forged one too far ahead
    if when <= ctx.now:
        raise InvalidInput("time", when.isoformat(), Why.IN_THE_PAST)
    insist = dialog.step == "hours"  # "Keep 23:26" from the working-hours question is kept as it is
    if dialog.flow == "remind":
        return await planned(ctx, dialog, when, insist=insist)
    return await _ask_until(ctx, dict(dialog.data), when, insist=insist)


@router.flow("snooze")
async def on_snooze_text(ctx: ChatContext, dialog: Dialog, event: Text | SharedContact) -> Reply:
    """The snooze's date or reason, typed."""
    text = event.text if isinstance(event, Text) else event.phone
    data = dialog.data
    if dialog.step == "date":
        try:
            until = parse_when(text, now=ctx.now, tz=ctx.user.timezone)
        except PassedDate as error:
            return passed_date(
                ctx, dialog, error, ctx.tr('Until when? For example "25.12", "next monday" or "in 2 weeks".')
            )
        except InvalidInput as error:
            return ask_again(
                ctx,
                dialog,
                [
                    "⚠️ "
                    + ctx.tr("I couldn't read that time: {reason}.", reason=refusal_reason(error, ctx.tr)),
                    ctx.tr('Until when? For example "25.12", "next monday" or "in 2 weeks".'),
                ],
            )
        return await _ask_until(ctx, data, until)
    if dialog.step == "hours":  # words typed instead of a tap: the question again, as it was
        return await _ask_until(ctx, data, datetime.fromisoformat(data["until"]))
    return await _snooze(
        ctx, data, datetime.fromisoformat(data["until"]), " ".join(text.split())[:200] or None
    )


@router.button(A.LOWER)
async def on_lower(ctx: ChatContext, p: Payload) -> Reply:
    """Lower the deal's priority."""
    await ctx.crm.deals.set_priority(
        deal_id=p.num(0), priority=Priority.LOW, actor=ctx.user, expected_version=p.num(1)
    )
    return await show_card(ctx, p.num(0), notice="🔻 " + ctx.tr("Priority lowered."))


# -- escalations and nudges ----------------------------------------------------------------------


@renders(NoteKind.ESCALATION)
async def escalation(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    tr = ctx.tr
    lines = ["🚨 " + tr("Still stale after a reminder:")]
    buttons = []
    for item in p.get("items", []):
        try:
            deal = (await details(ctx, int(item["deal_id"]))).deal
        except NotFound:
            continue
        since = datetime.fromisoformat(item["stale_since"])
        if not deal.is_stale(ctx.now) or deal.follow_up_due_at != since:
            continue  # handled (or snoozed) before the boss's working hour came: nothing to escalate
        owner = deal.owner.name if deal.owner else tr("nobody")
        lines.append(
            f"• <b>{h(deal.title)}</b> — {h(owner)}, " + tr("stale for {time}", time=tr.days(ctx.now - since))
        )
        nudge = tr.label(
            "Nudge {name}", name=shorten(owner, room(1) - text_px("📣 " + tr.label("Nudge {name}", name="")))
        )
        buttons += beside(
            "👥 ",
            deal.title,
            Button.act("👥", A.REASSIGN_MENU, deal.id, deal.version),
            Button.act("📣 " + nudge, A.NUDGE, deal.id),
        )
    if len(lines) == 1:
        return []
    return [View.of(lines, buttons)]


@router.button(A.NUDGE)
async def on_nudge(ctx: ChatContext, p: Payload) -> Reply:
    """A boss asks the seller to follow up on the deal."""
    deal = await ctx.crm.followups.nudge(deal_id=p.num(0), actor=ctx.user)
    who = deal.owner.name if deal.owner else ctx.tr("nobody")
    return Reply().answer("📣 " + ctx.tr("{name} has been nudged.", name=who))


@renders(NoteKind.NUDGE)
async def nudge(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    try:
        found = await details(ctx, int(p["deal_id"]))
    except NotFound:
        return []
    return [
        reminder_card(
            ctx,
            found,
            "📣 " + ctx.tr("{name} asks you to follow up on this deal:", name=p.get("by_name", "")),
        )
    ]


# -- tasks ----------------------------------------------------------------------------------------


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
            Button.act("✅ " + tr("Done"), A.TASK_DONE, t, "n"),
            Button.act("💤 " + tr("In 1 hour"), A.TASK_SNOOZE, t, "1h", "n"),
        ],
        [
            Button.act("🌅 " + tr("Tomorrow"), A.TASK_SNOOZE, t, "tm", "n"),
            Button.act("📂 " + tr("Open the deal"), A.CARD, task.deal_id),
        ],
    ]
    return [View.of(lines, buttons)]


@router.button(A.CALL_BACK_DONE)
async def on_called_back(ctx: ChatContext, p: Payload) -> Reply:
    """The seller called the customer back."""
    task = await ctx.crm.tasks.complete(task_id=p.num(0), actor=ctx.user)
    return Reply().edit(
        ctx.message_id,
        View.of(
            ["✅ " + ctx.tr("Called back: {text}", text=task_text(task, ctx.tr))],
            [[Button.act("📂 " + ctx.tr("Open the deal"), A.CARD, task.deal_id)]],
        ),
    )


# -- the digest ------------------------------------------------------------------------------------


def _activity_lines(
    tr: Tr, act: ActivitySummary, currency: str, previous: ActivitySummary | None
) -> list[str]:
    def delta(now: int, before: int | None) -> str:
        if before is None:
            return ""
        change = now - before
        return f" ({'+' if change >= 0 else ''}{change})"

    p = previous
    lines = [
        "➕ "
        + tr("New deals: {n}", n=act.new_deals)
        + delta(act.new_deals, p.new_deals if p else None)
        + (" · " + tr("from calls: {n}", n=act.new_from_calls) if act.new_from_calls else ""),
        "➡️ "
        + tr("Moved forward: {n}", n=act.moved_forward)
        + delta(act.moved_forward, p.moved_forward if p else None),
        "🏆 "
        + tr("Won: {n} · {amount}", n=act.won_count, amount=tr.money(act.won_amount, currency))
        + delta(act.won_count, p.won_count if p else None),
        "🚫 "
        + tr("Lost: {n}", n=act.lost_count)
        + delta(act.lost_count, p.lost_count if p else None)
        + (
            " — " + ", ".join(f"{tr(r)} ×{n}" for r, n in act.top_lost_reasons)
            if act.top_lost_reasons
            else ""
        ),
    ]
    return lines


def split_messages(lines: list[str], limit: int = 4000) -> list[str]:
    """Split a long text at line boundaries, never mid-line, into messages Telegram accepts."""
    chunks: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit and chunks[-1]:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line) + 1
    return [fit(chunk, limit) for chunk in chunks if any(chunk)]


def beside(icon: str, title: str, button: Button, other: Button) -> list[list[Button]]:
    """A deal's ``button`` labelled ``icon`` and its title, with ``other`` beside it: the title cut at a
    word's end to share the row; one whose first word cannot share it (a phone number) gets the row."""
    words = by_words(title, room(2) - text_px(icon))
    if words is not None and fits(other.text, 2):
        return [[replace(button, text=icon + words), other]]
    return [[replace(button, text=icon + shorten(title, room(1) - text_px(icon)))], [other]]


async def digest_messages(ctx: ChatContext, digest: Digest) -> list[Outgoing]:
    tr, now, currency = ctx.tr, ctx.now, ctx.crm.config.default_currency
    title = tr("Weekly digest") if digest.weekly else tr("Daily digest")
    lines = [
        f"🗞 <b>{title}</b> · {tr.when(now, now=now, relative=False)}",
        "",
        *funnel_lines(digest.funnel, tr, currency),
        "",
    ]
    since = tr("This week, compared with the week before") if digest.weekly else tr("Since the last digest")
    lines += [f"<b>{since}</b>", *_activity_lines(tr, digest.activity, currency, digest.previous), ""]
    lines += [
        "🔁 <b>" + tr("Conversion and losses — 30 days") + "</b>",
        *conversion_lines(digest.conversion, tr),
    ]
    lines += sellers_lame_lines(digest.seller_lame, digest.conversion, tr)
    lines += ["", "👥 <b>" + tr("Sellers") + "</b> <i>(" + tr("open · won · lost · stale") + ")</i>"]
    lines += [
        f"• {h(r.seller.name)}: {r.open_count} · {r.won_count} · {r.lost_count} · {r.stale_count}"
        for r in digest.sellers
    ]
    if digest.calls is not None:
        lines += ["", "📞 <b>" + tr("Calls") + "</b>", *calls_lines(digest.calls, tr)]
    if digest.missed_calls:
        lines += ["", "📵 <b>" + tr("Missed calls not called back: {n}", n=len(digest.missed_calls)) + "</b>"]
        lines += [
            f"• {h(t.deal_title or '')} — {h(t.assignee_name or tr('nobody'))}, {tr.when(t.due_at, now=now)}"
            for t in digest.missed_calls[:10]
        ]
    buttons: list[list[Button]] = []
    if digest.stalest:
        lines += ["", "⏰ <b>" + tr("The stalest deals") + "</b>"]
        for deal in digest.stalest:
            owner = deal.owner.name if deal.owner else tr("nobody")
            lines.append(f"• {h(deal.title)} — {h(owner)}, {stage_name(deal.stage, tr)}")
            buttons += beside(
                "📣 ",
                deal.title,
                Button.act("📣", A.NUDGE, deal.id),
                Button.act("👥 " + tr.label("Reassign"), A.REASSIGN_MENU, deal.id, deal.version),
            )
    prefs = await ctx.crm.followups.preferences(actor=ctx.user)
    buttons.append(
        [Button.act("🕘 " + tr.label("Digest time: {time}", time=prefs.digest_time), A.DIGEST_SET, "menu")]
    )
    texts = split_messages(lines)
    views: list[Outgoing] = [View(text) for text in texts[:-1]]
    views.append(View(texts[-1], tuple(tuple(r) for r in buttons)))
    views.append(await chart(ctx, digest))
    return views


async def chart(ctx: ChatContext, digest: Digest) -> SendPhoto:
    """Where deals are lost over the digest's 30 days, the core's worst stage in red."""
    png = await drawn(loss_chart(digest.conversion, ctx.tr, stage_label))
    caption = "📊 " + ctx.tr("Each bar: the share of a stage's deals lost there. Red: where most are lost.")
    return SendPhoto(png, caption)


@renders(NoteKind.DIGEST)
async def digest_note(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    digest = await ctx.crm.reports.digest(
        actor=ctx.user,
        since=datetime.fromisoformat(p["since"]),
        until=datetime.fromisoformat(p["until"]),
        weekly=bool(p.get("weekly")),
    )
    return await digest_messages(ctx, digest)


@router.command("digest", boss=True)
async def on_digest(ctx: ChatContext, args: str) -> Reply:
    """Show the daily digest now."""
    digest = await ctx.crm.reports.digest(actor=ctx.user, since=ctx.now - timedelta(days=1), until=ctx.now)
    reply = Reply(actions=[Typing()])
    for message in await digest_messages(ctx, digest):
        reply.actions.append(message) if isinstance(message, SendPhoto) else reply.send(message)
    return reply


@router.button(A.DIGEST_SET)
async def on_digest_settings(ctx: ChatContext, p: Payload) -> Reply:
    """Digest time, the digest on/off (bosses), the morning plan on/off."""
    option, tr = p.token(0), ctx.tr
    if option == "menu":
        times = ["07:00", "08:00", "09:00", "10:00", "18:00"]
        prefs = await ctx.crm.followups.preferences(actor=ctx.user)
        rows = [
            [
                Button.act(
                    ("• " if t == prefs.digest_time else "") + t, A.DIGEST_SET, "t" + t.replace(":", "")
                )
                for t in times
            ],
            [
                Button.act(
                    "🔕 " + tr("No digest") if prefs.digest_enabled else "🔔 " + tr("Digest on"),
                    A.DIGEST_SET,
                    "off" if prefs.digest_enabled else "on",
                )
            ],
        ]
        return Reply().send(
            View.of(
                [tr("When should the daily digest come? (your time zone: {tz})", tz=ctx.user.timezone)], rows
            )
        )
    if option.startswith("t") and len(option) == 5 and option[1:].isdigit():
        prefs = await ctx.crm.followups.set_preferences(
            actor=ctx.user,
            digest_time=f"{option[1:3]}:{option[3:]}",
            digest=True if ctx.user.is_boss else None,
        )
        return Reply().edit(
            ctx.message_id, View.of(["🕘 " + tr("The digest comes at {time}.", time=prefs.digest_time)])
        )
    settings = {
        "off": {"digest": False},
        "on": {"digest": True},
        "mp0": {"morning_plan": False},
        "mp1": {"morning_plan": True},
    }
    if option not in settings:
        raise InvalidInput("setting", option)
    await ctx.crm.followups.set_preferences(actor=ctx.user, **settings[option])  # type: ignore[arg-type]
    texts = {
        "off": tr("The daily digest is off. /digest still shows it."),
        "on": tr("The daily digest is on."),
        "mp0": tr("No more morning plans. Send /morning to turn them back on."),
        "mp1": tr("The morning plan is on."),
    }
    return Reply().answer(texts[option]).send(View.of([texts[option]]))


__all__ = ["split_messages"]
