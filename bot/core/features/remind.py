"""Remind on a card: what it is about (a call, a meeting, an e-mail, something else, with a few words
if the seller likes), then when; a time outside working hours is offered for the next working morning,
or kept if the seller insists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.errors import refusal_reason
from bot.core.events import SharedContact, Text
from bot.core.features.card import (
    ask_again,
    asked_in,
    back_to_card,
    details,
    passed_date,
    question_view,
    typed,
)
from bot.core.features.cards import N_, TASK_KIND_ICON, task_words
from bot.core.features.deal_view import deal_card
from bot.core.i18n import Html, h
from bot.core.routing import Router
from bot.core.views import Button, Reply, View
from bot.core.when import EPOCH, PassedDate, morning_in, next_monday_morning, parse_when
from bot.core.widths import pack
from crm_core.domain.conversations import Dialog
from crm_core.domain.errors import InvalidInput
from crm_core.domain.schedule import outside_hours
from crm_core.domain.tasks import MAX_TASK_TEXT, REMINDER_KINDS, TaskKind

router = Router("remind")
MAX_REMINDER_WORDS = min(200, MAX_TASK_TEXT)


@router.button(A.RemindMenu)
async def on_remind_menu(ctx: ChatContext, p: A.RemindMenu) -> Reply:
    """Ask what the reminder is about: a call, a meeting, an e-mail, or something else."""
    found = await details(ctx, p.deal_id, p.version)
    d, v, tr = found.deal.id, found.deal.version, ctx.tr
    kinds = [
        Button.act(f"{TASK_KIND_ICON[k]} {tr.label(KIND_BUTTON[k])}", A.RemindKind(d, v, k.value))
        for k in REMINDER_KINDS
    ]
    rows = [*pack((b.text, b) for b in kinds), back_to_card(ctx, d)]  # whole labels, three a row at most
    lines = [f"<b>{h(found.deal.title)}</b>", "⏰ " + tr("What is the reminder about?")]
    return Reply().edit(ctx.message_id, View.of(lines, rows))


KIND_BUTTON = {
    TaskKind.CALL: N_("Call"),
    TaskKind.MEETING: N_("Meeting"),
    TaskKind.EMAIL: N_("E-mail"),
    TaskKind.OTHER: N_("Something else"),
}
REMIND_QUESTION = N_('When? Tap a time, or type one: "in 2h", "tomorrow 10:00", "25.12 15:00".')


@router.button(A.RemindKind)
async def on_remind_kind(ctx: ChatContext, p: A.RemindKind) -> Reply:
    """Keep what the reminder is about, and ask when (a few words may go with it)."""
    try:
        kind = TaskKind(p.kind)
    except ValueError:
        raise InvalidInput("reminder", p.kind) from None
    if kind not in REMINDER_KINDS:
        raise InvalidInput("reminder", p.kind)
    await details(ctx, p.deal_id, p.version)
    data = {
        "deal_id": p.deal_id,
        "version": p.version,
        "kind": kind.value,
        "words": "",
        "message_id": ctx.message_id,
    }
    return await ask_when(ctx, data)


async def ask_when(ctx: ChatContext, data: Mapping[str, object], lines: Sequence[str] = ()) -> Reply:
    """The reminder's time question, in the card's message: the times to tap, or one typed."""
    dialog = await ctx.crm.dialogs.put(ctx.user.telegram_id, flow="remind", step="when", data=dict(data))
    ctx.extra["asked"] = True
    tr, draft = ctx.tr, dialog.draft
    rows = [
        [
            Button.act(tr.label("In 1 hour"), A.RemindAt("1h", draft)),
            Button.act(tr.label("Tomorrow 9:00"), A.RemindAt("tm", draft)),
        ],
        [
            Button.act(tr.label("In 3 days"), A.RemindAt("3d", draft)),
            Button.act(tr.label("Next Monday"), A.RemindAt("mon", draft)),
        ],
    ]
    if not data.get("words"):
        rows.append([Button.act("✏️ " + tr.label("Add a few words"), A.RemindWords(draft))])
    what = reminder_what(ctx, data)
    view = question_view(ctx, int(str(data["deal_id"])), [*lines, "⏰ " + what, tr(REMIND_QUESTION)], rows)
    return Reply().edit(asked_in(dialog), view)


def reminder_what(ctx: ChatContext, data: Mapping[str, object]) -> Html:
    """What the reminder being planned is about, as it will read ("Call: about the invoice")."""
    kind = TaskKind(str(data.get("kind") or TaskKind.OTHER.value))
    return Html(f"<b>{task_words(kind, str(data.get('words') or ''), ctx.tr)}</b>")


@router.button(A.RemindWords)
async def on_remind_words(ctx: ChatContext, p: A.RemindWords) -> Reply:
    """Ask for a few words to go with the reminder."""
    dialog = await ctx.crm.dialogs.confirmed(
        ctx.user.telegram_id, flow="remind", draft=p.draft, step="when", what="question"
    )
    await ctx.crm.dialogs.put(ctx.user.telegram_id, flow="remind", step="words", data=dialog.data)
    lines = [
        "⏰ " + reminder_what(ctx, dialog.data),
        ctx.tr('A few words about it, e.g. "about the invoice":'),
    ]
    return ask_again(ctx, dialog, lines)


def remind_options(ctx: ChatContext) -> dict[str, datetime]:
    now, tz = ctx.now, ctx.user.timezone
    return {
        "1h": now + timedelta(hours=1),
        "tm": morning_in(1, now, tz),
        "3d": morning_in(3, now, tz),
        "mon": next_monday_morning(now, tz),
    }


@router.button(A.RemindAt)
async def on_remind_at(ctx: ChatContext, p: A.RemindAt) -> Reply:
    """Plan the reminder being asked about at the time tapped."""
    dialog = await ctx.crm.dialogs.confirmed(
        ctx.user.telegram_id, flow="remind", draft=p.draft, step="when", what="question"
    )
    due = remind_options(ctx).get(p.option)
    if due is None:
        raise InvalidInput("time", p.option)
    return await planned(ctx, dialog, due)


async def planned(ctx: ChatContext, dialog: Dialog, due: datetime, *, insist: bool = False) -> Reply:
    """The reminder of the dialog planned at ``due`` (or the working-hours question asked first); the
    dialog ends unless a question was asked again."""
    data = dialog.data
    await details(ctx, int(data["deal_id"]), int(data["version"]) if data.get("version") else None)
    reply = await remind(
        ctx,
        int(data["deal_id"]),
        due,
        asked_in(dialog),
        insist=insist,
        kind=TaskKind(str(data.get("kind") or TaskKind.OTHER.value)),
        words=str(data.get("words") or ""),
    )
    if not ctx.extra.get("asked"):
        await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    return reply


@router.button(A.Remind)
async def on_remind(ctx: ChatContext, p: A.Remind) -> Reply:
    """Plan a reminder at the chosen time (a button of a menu from before reminders had a kind)."""
    due = remind_options(ctx).get(p.option)
    if due is None:
        raise InvalidInput("time", p.option)
    await details(ctx, p.deal_id, p.version)  # the menu of the deal as it is: not of a deal changed since
    return await remind(ctx, p.deal_id, due, ctx.message_id)


async def remind(
    ctx: ChatContext,
    deal_id: int,
    due: datetime,
    message_id: int | None,
    *,
    insist: bool = False,
    kind: TaskKind = TaskKind.OTHER,
    words: str = "",
) -> Reply:
    """Plan a reminder and redraw the deal's card in ``message_id``; one outside working hours is
    first offered for the next working morning (``insist``: kept as it is)."""
    morning = None if insist else outside_hours(due, ctx.user.timezone, ctx.crm.config.working_hours)
    if morning is not None:
        data = {"deal_id": deal_id, "message_id": message_id, "kind": kind.value, "words": words}
        return await offer_morning(ctx, data, due, morning)
    task = await ctx.crm.tasks.add(deal_id=deal_id, due_at=due, text=words, actor=ctx.user, kind=kind)
    notice = "⏰ " + ctx.tr(
        "I'll remind you {when}: {what}.",
        when=ctx.tr.when(task.due_at, now=ctx.now),
        what=task_words(task.kind, task.text, ctx.tr),
    )
    return Reply().edit(message_id, deal_card(await details(ctx, deal_id), ctx, notice=notice))


async def offer_morning(ctx: ChatContext, data: dict[str, Any], due: datetime, morning: datetime) -> Reply:
    """Ask, in the card's message, whether a reminder outside working hours should come the next
    working morning instead."""
    dialog = await ctx.crm.dialogs.put(ctx.user.telegram_id, flow="remind", step="hours", data=data)
    ctx.extra["asked"] = True
    text = ctx.tr(
        "{when} is outside your working hours. Remind you {morning} instead?",
        when=ctx.tr.when(due, now=ctx.now),
        morning=ctx.tr.when(morning, now=ctx.now),
    )
    buttons = hours_choice(ctx, due, morning, dialog.draft)
    return Reply().edit(asked_in(dialog), question_view(ctx, int(data["deal_id"]), ["🌙 " + text], buttons))


def hours_choice(ctx: ChatContext, due: datetime, morning: datetime, draft: int) -> list[list[Button]]:
    """The two answers to a time outside working hours: the next working morning, or the time kept."""
    tr = ctx.tr
    when, then = tr.when(due, now=ctx.now), tr.when(morning, now=ctx.now)
    return [
        [Button.act("🌅 " + then, A.WhenAt(minutes_of(morning), draft))],
        [Button.act("⏰ " + tr.label("Keep {when}", when=when), A.WhenAt(minutes_of(due), draft))],
    ]


def minutes_of(moment: datetime) -> int:
    """A moment as a button carries it: whole minutes since 1970."""
    return int((moment - EPOCH).total_seconds() // 60)


@router.button(A.RemindTyped)
async def on_remind_typed(ctx: ChatContext, p: A.RemindTyped) -> Reply:
    """Ask for a reminder time in the user's words (a button of a menu from before reminders had a kind)."""
    await details(ctx, p.deal_id, p.version)
    data = {"deal_id": p.deal_id, "version": p.version, "kind": TaskKind.OTHER.value, "words": ""}
    return await ask_when(ctx, {**data, "message_id": ctx.message_id})


@router.flow("remind")
async def on_remind_text(ctx: ChatContext, dialog: Dialog, event: Text | SharedContact) -> Reply:
    """The reminder's few words, or its time typed: plan it, or ask again."""
    if dialog.step == "words":
        words = " ".join(typed(event).split())[:MAX_REMINDER_WORDS]
        if not words:
            return ask_again(ctx, dialog, [ctx.tr('A few words about it, e.g. "about the invoice":')])
        return await ask_when(ctx, {**dialog.data, "words": words})
    try:
        due = parse_when(typed(event), now=ctx.now, tz=ctx.user.timezone)
    except PassedDate as error:
        return passed_date(ctx, dialog, error, ctx.tr(REMIND_QUESTION))
    except InvalidInput as error:
        why = refusal_reason(error, ctx.tr)
        return await ask_when(
            ctx, dialog.data, ["⚠️ " + ctx.tr("I couldn't read that time: {reason}.", reason=why)]
        )
    return await planned(ctx, dialog, due)
