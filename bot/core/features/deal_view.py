"""How a deal looks in the chat: its card with its buttons, and a deal as a list button."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from bot.core import actions as A
from bot.core.codec import Action
from bot.core.context import ChatContext
from bot.core.features.cards import PRIORITY_ICON, STAGE_ICON, stage_label, stage_name, task_text
from bot.core.features.funnel_picks import funnel_line
from bot.core.field_words import field_line
from bot.core.i18n import h, isolate
from bot.core.views import Button, View
from bot.core.widths import by_words, fits, pack, room, shorten, squeeze, text_px
from crm_core.domain.deals import Deal, Priority
from crm_core.domain.funnel import Pipeline, Stage, StageKind
from crm_core.domain.phones import pretty as pretty_phone
from crm_core.services.deals import DealDetails

NOTE_PX = 900.0  # the latest note on the card: about three lines of a phone's screen
MIN_TITLE_PX = 90.0  # a list button keeps this much of a title before it gives up a detail


def deal_label(
    deal: Deal, ctx: ChatContext, *, details: Sequence[str] = (), per_row: int = 1
) -> tuple[str, list[str]]:
    """A deal as a list button: its marks (stale, priority), its title cut at a word if it must be, its
    amount whole, then ``details`` (stage, owner) while they fit; and what did not fit whole, for the
    message's text. Nothing is ever cut inside a number or a word."""
    marks = ("⏳ " if deal.is_stale(ctx.now) else "") + (PRIORITY_ICON[deal.priority] + " ").lstrip()
    optional = ([ctx.tr.money(deal.amount, deal.currency)] if deal.amount is not None else []) + [
        d for d in details if d
    ]
    width, amounts = room(per_row), int(deal.amount is not None)
    for keep in range(len(optional), -1, -1):
        tail = "".join(f" · {part}" for part in optional[:keep])
        left = width - text_px(marks + tail)
        title = by_words(deal.title, left)
        whole = title == squeeze(deal.title)  # a stage or an owner never costs the title a word
        if title is not None and (whole or (keep <= amounts and left >= MIN_TITLE_PX)):
            return f"{marks}{isolate(title)}{tail}", optional[keep:]
    return marks + isolate(shorten(deal.title, width - text_px(marks))), optional


def deal_lines(labelled: Sequence[tuple[Deal, list[str]]], ctx: ChatContext) -> list[str]:
    """The message's lines for the deals whose buttons could not hold every detail."""
    return [
        f"• <b>{isolate(h(deal.title))}</b> — " + " · ".join(h(d) for d in dropped)
        for deal, dropped in labelled
        if dropped
    ]


def card_lines(details: DealDetails, ctx: ChatContext) -> list[str]:
    deal, pipeline, tr, now = details.deal, details.pipeline, ctx.tr, ctx.now
    lines = [f"{PRIORITY_ICON[deal.priority]}<b>{isolate(h(deal.title))}</b> <i>#{deal.id}</i>".strip()]
    if deal.contact is not None:
        who = " · ".join(
            p
            for p in (
                isolate(h(deal.contact.name or "")),
                h(deal.contact.company or ""),
                pretty_phone(deal.contact.phone),
            )
            if p
        )
        lines.append(f"👤 {who}")
    if deal.amount is not None:
        lines.append(f"💰 {tr.money(deal.amount, deal.currency)}")
    if len(ctx.extra.get("pipelines", ())) > 1:  # with one funnel it goes without saying
        lines.append(funnel_line(pipeline))
    n, of = pipeline.ordinal(deal.stage)
    place = f"{n}/{of} " if n else ""
    stay = tr("{time} in stage", time=tr.days(now - deal.stage_entered_at)) if deal.stage.is_open else ""
    stale = " ⏳ " + tr("needs a follow-up") if deal.is_stale(now) else ""
    lines.append(
        f"{STAGE_ICON[deal.stage.kind]} {place}<b>{stage_name(deal.stage, tr)}</b>"
        + (f" · {stay}" if stay else "")
        + stale
    )
    lines += [field_line(d, values, tr, deal.currency) for d, values in details.fields]
    if deal.stage.kind is StageKind.LOST and deal.lost_reason:
        lines.append(tr("Reason: {reason}", reason=tr.lost_reason(deal.lost_reason, deal.lost_note)))
    owner = h(deal.owner.name) if deal.owner else tr("nobody yet")
    lines.append(
        f"🧑‍💼 {owner}"
        + (f" · {tr('priority')}: {tr(deal.priority.value)}" if deal.priority is not Priority.NORMAL else "")
    )
    if details.next_task is not None:
        task = details.next_task
        overdue = " ⚠️" if task.due_at <= now else ""
        lines.append(f"🗓 {task_text(task, tr)} — {tr.when(task.due_at, now=now)}{overdue}")
    if deal.snoozed_until and deal.snoozed_until > now:
        lines.append("💤 " + tr("Snoozed until {when}", when=tr.when(deal.snoozed_until, now=now)))
    if details.last_note is not None:
        note = details.last_note
        text = shorten(" ".join(str(note.data.get("text", "")).split()), NOTE_PX)
        lines.append(f"📝 <i>{h(text)}</i> · {tr.when(note.at, now=now)}")
    if deal.stage.playbook and deal.stage.is_open:
        lines.append(f"💡 <i>{tr(deal.stage.playbook)}</i>")
    return lines


def can_dial(deal: Deal, ctx: ChatContext) -> bool:
    """Whether "📞 Call" is offered: a PBX places calls, the customer has a number, the deal is the user's
    (or the user is a boss). Whether the call goes through is the core's to say when it is pressed."""
    phone = deal.contact.phone if deal.contact is not None else None
    mine = ctx.user.is_boss or deal.owner_id == ctx.user.id
    return ctx.crm.config.places_calls and bool(phone) and mine


def _packed(*groups: list[Button]) -> list[list[Button]]:
    """Each group of buttons in rows of up to three, as many on a row as show their labels whole."""
    return [row for group in groups for row in pack((b.text, b) for b in group)]


def back_to_list(back: str, ctx: ChatContext) -> list[list[Button]]:
    """The way back to the list the card was opened from, if it was."""
    if not back:
        return []
    label = ctx.tr.label("Back to the plan") if back.startswith("mp.") else ctx.tr.label("Back to the list")
    return [[Button.act("⬅ " + label, A.BackToList(back))]]


def card_buttons(details: DealDetails, ctx: ChatContext, back: str = "") -> list[list[Button]]:
    """The card's everyday buttons: the next stage, a note, a reminder, won or lost; the rest behind More."""
    deal, pipeline, tr, user = details.deal, details.pipeline, ctx.tr, ctx.user
    d, v = deal.id, deal.version
    if deal.owner is None and not user.is_boss:
        return [
            [Button.act("🙋 " + tr.label("Take this deal"), A.Take(d, v))],
            [Button.act("📜 " + tr.label("History"), A.History(d, 0))],
        ]
    more = Button.act("⋯ " + tr.label("More"), A.More(d, back))
    note = Button.act("📝 " + tr.label("Note"), A.Note(d, v))
    if deal.is_closed:  # it can only go back where it was won or lost from
        again = stage_label(deal.reopen_stage(pipeline), tr)
        label = "↩ " + tr.label("Reopen in {stage}", stage=again)
        reopen = Button.act(label if fits(label) else f"↩ {again}", A.Prev(d, v))
        return _packed([reopen], [note, more]) + back_to_list(back, ctx)
    following = pipeline.next_after(deal.stage)
    call = [Button.act("📞 " + tr.label("Call"), A.Dial(d, 0))] if can_dial(deal, ctx) else []
    step = []
    if following is not None and following.is_open:  # "Won ▶" would say what "Won" says
        step.append(Button.act(f"{stage_label(following, tr)} ▶", A.Next(d, v)))
    return _packed(
        step,
        [note, Button.act("⏰ " + tr.label("Remind"), A.RemindMenu(d, v)), *call],
        [
            Button.act("🏆 " + tr.label("Won"), A.Won(d, v)),
            Button.act("🚫 " + tr.label("Lost"), A.LostMenu(d, v)),
            more,
        ],
    ) + back_to_list(back, ctx)


def more_buttons(details: DealDetails, ctx: ChatContext, back: str = "") -> list[list[Button]]:
    """The card's less frequent buttons: another stage, edit, snooze, history, calls, reassign."""
    deal, pipeline, tr = details.deal, details.pipeline, ctx.tr
    d, v = deal.id, deal.version
    moves, rest = [], [Button.act("📜 " + tr.label("History"), A.History(d, 0))]
    if not deal.is_closed:
        previous = pipeline.previous_before(deal.stage)
        if previous is not None:
            moves.append(Button.act(f"◀ {stage_label(previous, tr)}", A.Prev(d, v)))
        moves.append(Button.act("↔️ " + tr.label("Move to…"), A.MoveMenu(d, v)))
        moves.append(Button.act("✏️ " + tr.label("Edit"), A.EditMenu(d, v)))
        rest.append(Button.act("💤 " + tr.label("Snooze"), A.SnoozeMenu(d, v)))
    if details.call_count:
        rest.append(Button.act("📞 " + tr.label("Calls") + f" ({details.call_count})", A.Calls(d)))
    if ctx.user.is_boss:
        rest.append(Button.act("👥 " + tr.label("Reassign"), A.ReassignMenu(d, v)))
    to_card = Button.act("⬅ " + tr.label("Back"), A.CardFrom(d, back) if back else A.Card(d))
    return _packed(moves, rest, [to_card])


def deal_card(
    details: DealDetails,
    ctx: ChatContext,
    *,
    notice: str | None = None,
    more: bool = False,
    back: str = "",
) -> View:
    """The deal's card: everything about it at a glance, and a button for every next step
    (``more``: the less frequent ones; ``back``: the list it was opened from, to go back to)."""
    lines = ([notice, ""] if notice else []) + card_lines(details, ctx)
    buttons = more_buttons(details, ctx, back) if more else card_buttons(details, ctx, back)
    return View.of(lines, buttons)


def stage_buttons(
    pipeline: Pipeline, ctx: ChatContext, to_stage: Callable[[int], Action], *, exclude: Stage | None = None
) -> list[list[Button]]:
    """A button for each stage (but ``exclude``), two to a row, its action ``to_stage(stage id)``."""
    buttons = [
        Button.act(f"{STAGE_ICON[s.kind]} {stage_label(s, ctx.tr)}", to_stage(s.id))
        for s in pipeline.stages
        if s != exclude
    ]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def beside(icon: str, title: str, button: Button, other: Button) -> list[list[Button]]:
    """A deal's ``button`` labelled ``icon`` and its title, with ``other`` beside it: the title cut at a
    word's end to share the row; one whose first word cannot share it (a phone number) gets the row."""
    words = by_words(title, room(2) - text_px(icon))
    if words is not None and fits(other.text, 2):
        return [[replace(button, text=icon + words), other]]
    return [[replace(button, text=icon + shorten(title, room(1) - text_px(icon)))], [other]]
