"""Stale-deal follow-ups: the reminder card, snoozing a deal (until when, why), lowering its priority."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core import actions as A
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
from bot.core.features.cards import stage_label, stage_name
from bot.core.features.deal_view import deal_card, deal_label
from bot.core.features.digest import split_messages  # the digest's, importable here as before
from bot.core.features.remind import hours_choice, planned
from bot.core.i18n import h
from bot.core.renderers import Outgoing, renders
from bot.core.routing import Router
from bot.core.views import Button, Reply, View
from bot.core.when import PassedDate, from_epoch_minutes, morning_in, parse_when
from crm_core.domain.conversations import Dialog
from crm_core.domain.deals import Priority
from crm_core.domain.errors import InvalidInput, NotFound, OutOfDate, Why
from crm_core.domain.horizon import within_horizon
from crm_core.domain.notifications import NoteKind
from crm_core.domain.schedule import outside_hours

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
        buttons.append([Button.act(deal_label(deal, ctx)[0], A.Card(deal.id))])
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
                Button.act(f"{stage_label(following, tr)} ▶", A.Next(d, v)),
                Button.act("↔️ " + tr("Move to…"), A.MoveMenu(d, v)),
            ]
        )
    rows.append(
        [
            Button.act("💤 " + tr("Snooze"), A.SnoozeMenu(d, v)),
            Button.act("🔻 " + tr("Lower priority"), A.Lower(d, v)),
        ]
    )
    rows.append(
        [
            Button.act("🚫 " + tr("Lost"), A.LostMenu(d, v)),
            Button.act("📂 " + tr("Open the card"), A.Card(d)),
        ]
    )
    return View(card.html, tuple(tuple(r) for r in rows))


@router.button(A.SnoozeMenu)
async def on_snooze_menu(ctx: ChatContext, p: A.SnoozeMenu) -> Reply:
    """Offer how long to snooze the deal's reminders."""
    found = await details(ctx, p.deal_id, p.version)
    d, v, tr = found.deal.id, found.deal.version, ctx.tr
    rows = [
        [
            Button.act(tr("1 day"), A.Snooze(d, v, "1d")),
            Button.act(tr("3 days"), A.Snooze(d, v, "3d")),
            Button.act(tr("A week"), A.Snooze(d, v, "1w")),
        ],
        [Button.act("📅 " + tr("Until a date…"), A.Snooze(d, v, "date"))],
        back_to_card(ctx, d),
    ]
    return Reply().edit(
        ctx.message_id, View.of([f"<b>{h(found.deal.title)}</b>", tr("Snooze for how long?")], rows)
    )


@router.button(A.Snooze)
async def on_snooze(ctx: ChatContext, p: A.Snooze) -> Reply:
    """Ask why the deal is snoozed (or until when, for a date)."""
    deal_id, version, option = p.deal_id, p.version, p.option
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
    skip = [[Button.act("⏭ " + ctx.tr("No reason"), A.SnoozeDo(dialog.draft))]]
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


@router.button(A.SnoozeDo)
async def on_snooze_do(ctx: ChatContext, p: A.SnoozeDo) -> Reply:
    """Snooze as the question this button came with says, without a reason."""
    dialog = await ctx.crm.dialogs.confirmed(
        ctx.user.telegram_id, flow="snooze", draft=p.draft, step="reason", what="question"
    )
    data = dialog.data
    until = datetime.fromisoformat(data["until"])
    return await _snooze(ctx, data, until, None)


@router.button(A.WhenAt)
async def on_when_at(ctx: ChatContext, p: A.WhenAt) -> Reply:
    """The day typed, next year: the answer to the question (a reminder's or a snooze's time) it came with."""
    dialog = await ctx.crm.dialogs.get(ctx.user.telegram_id)
    if dialog is None or dialog.draft != p.draft or (dialog.flow, dialog.step) not in WHEN_QUESTIONS:
        raise OutOfDate("question")
    when = within_horizon("time", from_epoch_minutes(p.minutes), now=ctx.now)  # a forged one too far ahead
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


@router.button(A.Lower)
async def on_lower(ctx: ChatContext, p: A.Lower) -> Reply:
    """Lower the deal's priority."""
    await ctx.crm.deals.set_priority(
        deal_id=p.deal_id, priority=Priority.LOW, actor=ctx.user, expected_version=p.version
    )
    return await show_card(ctx, p.deal_id, notice="🔻 " + ctx.tr("Priority lowered."))


__all__ = ["split_messages"]
