"""How deals look in the chat: the card, a deal as a list button, a stage's name and place."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Protocol

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.i18n import Html, Tr, h, isolate
from bot.core.views import Button, View
from bot.core.widths import by_words, fits, pack, room, shorten, squeeze, text_px
from crm_core.domain.calls import CallOutcome
from crm_core.domain.deals import Deal, DealEvent, EventKind, Priority
from crm_core.domain.funnel import Pipeline, Stage, StageKind
from crm_core.domain.phones import pretty as pretty_phone
from crm_core.domain.tasks import TaskKind
from crm_core.services.deals import DealDetails


def N_(message: str) -> str:
    return message


class HasTaskText(Protocol):
    @property
    def kind(self) -> TaskKind: ...
    @property
    def text(self) -> str: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def attempts(self) -> int: ...


# What a task is about, as the chat says it (a call-back is said from its number).
TASK_KIND_ICON = {
    TaskKind.CALL_BACK: "📞",
    TaskKind.FOLLOW_UP: "⏰",
    TaskKind.CUSTOM: "📌",
    TaskKind.CALL: "📞",
    TaskKind.MEETING: "🤝",
    TaskKind.EMAIL: "✉️",
    TaskKind.OTHER: "📝",
}
TASK_KIND_WORDS = {
    TaskKind.FOLLOW_UP: N_("Follow up"),
    TaskKind.CALL: N_("Call"),
    TaskKind.MEETING: N_("Meeting"),
    TaskKind.EMAIL: N_("E-mail"),
    TaskKind.OTHER: N_("Reminder"),
}


def task_words(kind: TaskKind, text: str, tr: Tr) -> Html:
    """What a task is about in the reader's language, escaped: its kind, then its own words ("Call:
    about the invoice"); a custom task, "something else" or a reminder from before kinds with words
    is its words alone (they say what it is)."""
    named = TASK_KIND_WORDS.get(kind)
    if named is None or (kind in (TaskKind.FOLLOW_UP, TaskKind.OTHER) and text):
        return h(text)
    if not text:
        return h(tr(named))
    return tr("{kind}: {words}", kind=tr(named), words=text)


def task_text(task: HasTaskText, tr: Tr) -> Html:
    """A task's text in the reader's language, escaped: a call-back is said from its number (the
    English text crm_core writes is for the CLI and exports), with the calls that did not connect."""
    if task.kind is not TaskKind.CALL_BACK or task.phone is None:
        return task_words(task.kind, task.text, tr)
    text = tr("Call back {number}", number=pretty_phone(task.phone))
    if task.attempts:
        text = Html(text + " · " + tr.ngettext("{n} attempt", "{n} attempts", task.attempts))
    return text


# The default funnel's words: shown translated; names an admin chose are shown as they are.
DEFAULT_WORDS = [
    N_("Unsorted"),
    N_("Opportunity"),
    N_("Commercial offer"),
    N_("Document approval"),
    N_("Signing & payment"),
    N_("Execution"),
    N_("Won"),
    N_("Lost"),
    N_("Price"),
    N_("Chose a competitor"),
    N_("No budget"),
    N_("No response"),
    N_("Not a fit"),
    N_("Other"),
    N_("Call the customer back and qualify the request"),
    N_("Find the need, the budget and who decides"),
    N_("Send the offer and agree on a follow-up call"),
    N_("Get the contract approved by the customer's side"),
    N_("Get the contract signed and the invoice paid"),
    N_("Deliver and confirm the customer is satisfied"),
    N_("Ask for a referral and plan the next sale"),
    N_("Note why, and plan a check-in in a few months"),
]
OUTCOME_LABELS = {
    CallOutcome.TALKED: "🗣 ",
    CallOutcome.NO_ANSWER: "📵 ",
    CallOutcome.CALL_LATER: "🕒 ",
    CallOutcome.NOT_INTERESTED: "🚫 ",
    CallOutcome.NOTE: "📝 ",
}


OUTCOME_WORDS = {
    CallOutcome.TALKED: N_("Talked"),
    CallOutcome.NO_ANSWER: N_("No answer"),
    CallOutcome.CALL_LATER: N_("Call later"),
    CallOutcome.NOT_INTERESTED: N_("Not interested"),
    CallOutcome.NOTE: N_("Note"),
}


STAGE_ICON = {StageKind.INBOX: "📥", StageKind.OPEN: "🔹", StageKind.WON: "🏆", StageKind.LOST: "🚫"}
PRIORITY_ICON = {Priority.HIGH: "🔥", Priority.NORMAL: "", Priority.LOW: "🔻"}


def stage_label(stage: Stage, tr: Tr) -> str:
    """A stage's name as plain text, translated when it is one of the default funnel's (buttons, charts)."""
    return str(tr(stage.name))


def stage_name(stage: Stage, tr: Tr) -> Html:
    """A stage's name for a message: escaped, since an admin may name a stage "R&D <2>"."""
    return h(stage_label(stage, tr))


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
    n, of = pipeline.ordinal(deal.stage)
    place = f"{n}/{of} " if n else ""
    stay = tr("{time} in stage", time=tr.days(now - deal.stage_entered_at)) if deal.stage.is_open else ""
    stale = " ⏳ " + tr("needs a follow-up") if deal.is_stale(now) else ""
    lines.append(
        f"{STAGE_ICON[deal.stage.kind]} {place}<b>{stage_name(deal.stage, tr)}</b>"
        + (f" · {stay}" if stay else "")
        + stale
    )
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
    return [[Button.act("⬅ " + label, A.BACK_TO_LIST, back)]]


def card_buttons(details: DealDetails, ctx: ChatContext, back: str = "") -> list[list[Button]]:
    """The card's everyday buttons: the next stage, a note, a reminder, won or lost; the rest behind More."""
    deal, pipeline, tr, user = details.deal, details.pipeline, ctx.tr, ctx.user
    d, v = deal.id, deal.version
    if deal.owner is None and not user.is_boss:
        return [
            [Button.act("🙋 " + tr.label("Take this deal"), A.TAKE, d, v)],
            [Button.act("📜 " + tr.label("History"), A.HISTORY, d, 0)],
        ]
    more = Button.act("⋯ " + tr.label("More"), A.MORE, d, back)
    note = Button.act("📝 " + tr.label("Note"), A.NOTE, d, v)
    if deal.is_closed:  # it can only go back where it was won or lost from
        again = stage_label(deal.reopen_stage(pipeline), tr)
        label = "↩ " + tr.label("Reopen in {stage}", stage=again)
        reopen = Button.act(label if fits(label) else f"↩ {again}", A.PREV, d, v)
        return _packed([reopen], [note, more]) + back_to_list(back, ctx)
    following = pipeline.next_after(deal.stage)
    call = [Button.act("📞 " + tr.label("Call"), A.DIAL, d, 0)] if can_dial(deal, ctx) else []
    step = []
    if following is not None and following.is_open:  # "Won ▶" would say what "Won" says
        step.append(Button.act(f"{stage_label(following, tr)} ▶", A.NEXT, d, v))
    return _packed(
        step,
        [note, Button.act("⏰ " + tr.label("Remind"), A.REMIND_MENU, d, v), *call],
        [
            Button.act("🏆 " + tr.label("Won"), A.WON, d, v),
            Button.act("🚫 " + tr.label("Lost"), A.LOST_MENU, d, v),
            more,
        ],
    ) + back_to_list(back, ctx)


def more_buttons(details: DealDetails, ctx: ChatContext, back: str = "") -> list[list[Button]]:
    """The card's less frequent buttons: another stage, edit, snooze, history, calls, reassign."""
    deal, pipeline, tr = details.deal, details.pipeline, ctx.tr
    d, v = deal.id, deal.version
    moves, rest = [], [Button.act("📜 " + tr.label("History"), A.HISTORY, d, 0)]
    if not deal.is_closed:
        previous = pipeline.previous_before(deal.stage)
        if previous is not None:
            moves.append(Button.act(f"◀ {stage_label(previous, tr)}", A.PREV, d, v))
        moves.append(Button.act("↔️ " + tr.label("Move to…"), A.MOVE_MENU, d, v))
        moves.append(Button.act("✏️ " + tr.label("Edit"), A.EDIT_MENU, d, v))
        rest.append(Button.act("💤 " + tr.label("Snooze"), A.SNOOZE_MENU, d, v))
    if details.call_count:
        rest.append(Button.act("📞 " + tr.label("Calls") + f" ({details.call_count})", A.CALLS, d))
    if ctx.user.is_boss:
        rest.append(Button.act("👥 " + tr.label("Reassign"), A.REASSIGN_MENU, d, v))
    to_card = Button.act("⬅ " + tr.label("Back"), *((A.CARD_FROM, d, back) if back else (A.CARD, d)))
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
    pipeline: Pipeline, ctx: ChatContext, act: str, *args: int, exclude: Stage | None = None
) -> list[list[Button]]:
    buttons = [
        Button.act(f"{STAGE_ICON[s.kind]} {stage_label(s, ctx.tr)}", act, *args, s.id)
        for s in pipeline.stages
        if s != exclude
    ]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def edited_value(field: str, value: object, currency: str, tr: Tr) -> str:
    """An edited field's old or new value as the card shows it: an amount as money, a phone spaced."""
    if value is None or value == "":
        return "—"
    if field == "amount":
        try:
            return tr.money(Decimal(str(value)), currency) if currency else tr.number(Decimal(str(value)))
        except InvalidOperation:
            return str(value)
    return pretty_phone(str(value)) if field == "phone" else str(value)


def _moment(iso: str, at: datetime, tr: Tr) -> str:
    try:
        return tr.when(datetime.fromisoformat(iso), now=at, relative=False)
    except ValueError:
        return iso


def event_text(event: DealEvent, stage: str, tr: Tr, currency: str = "") -> Html:
    """One line of a deal's history in the reader's words (the chat and the board app say the same);
    ``currency``: the deal's, for the amounts in it."""
    data = event.data
    texts: dict[EventKind, Callable[[], str]] = {
        EventKind.CREATED: lambda: tr("created in {stage}", stage=stage),
        EventKind.MOVED: lambda: (
            tr("back to {stage}, the last move undone", stage=stage)
            if event.undoes_id
            else tr("moved to {stage}", stage=stage)
        ),
        EventKind.WON: lambda: tr("won"),
        EventKind.LOST: lambda: tr(
            "lost: {reason}", reason=tr.lost_reason(str(data.get("reason", "")), data.get("note"))
        ),
        EventKind.REOPENED: lambda: tr("reopened in {stage}", stage=stage),
        EventKind.REASSIGNED: lambda: tr("given to {name}", name=data.get("to_owner_name") or tr("nobody")),
        EventKind.EDITED: lambda: tr(
            "{field}: {old} → {new}",
            field=tr(str(data.get("field", ""))),
            old=edited_value(str(data.get("field", "")), data.get("old"), currency, tr)[:60],
            new=edited_value(str(data.get("field", "")), data.get("new"), currency, tr)[:60],
        ),
        EventKind.NOTE: lambda: "📝 " + h(str(data.get("text", ""))[:300]),
        EventKind.CALL: lambda: "📞 " + _call_line(data, tr),
        EventKind.CALL_OUTCOME: lambda: tr("call outcome: {outcome}", outcome=tr(_outcome_word(data))),
        EventKind.TASK_CREATED: lambda: tr("task: {text}", text=_task_of(data, tr)),
        EventKind.TASK_DONE: lambda: _done_line(data, tr),
        EventKind.TASK_CANCELLED: lambda: tr("cancelled with the deal: {text}", text=_task_of(data, tr)),
        EventKind.SNOOZED: lambda: (
            tr("snoozed")
            + (f" · {_moment(str(data['until']), event.at, tr)}" if data.get("until") else "")
            + (f" — {h(str(data['reason']))}" if data.get("reason") else "")
        ),
        EventKind.PRIORITY_CHANGED: lambda: tr("priority: {level}", level=tr(str(data.get("new", "")))),
    }
    return Html(texts[event.kind]())


def _call_line(data: dict[str, object], tr: Tr) -> Html:
    answered = data.get("status") == "answered"
    if data.get("direction") == "outbound":
        return tr("outgoing call") if answered else tr("outgoing call, no answer")
    return tr("answered call") if answered else tr("missed call")


CALL_BACK_PREFIX = "Call back "  # what call-backs' history lines said before they were stored as data


def _task_of(data: dict[str, object], tr: Tr) -> Html:
    """The task a history line is about, worded from its kind and words (older lines: their text)."""
    text = str(data.get("text", ""))[:100]
    try:
        kind = TaskKind(str(data.get("task_kind", "")))
    except ValueError:
        return h(text)
    if kind is TaskKind.CALL_BACK:  # said from its number (older lines: the CLI's English "Call back +7…")
        if data.get("phone"):
            return tr("Call back {number}", number=pretty_phone(str(data["phone"])))
        number = text.removeprefix(CALL_BACK_PREFIX) if text.startswith(CALL_BACK_PREFIX) else None
        return tr("Call back {number}", number=number) if number else h(text)
    return task_words(kind, text, tr)


def _done_line(data: dict[str, object], tr: Tr) -> Html:
    """A task done; a call-back done by a call says who reached the customer, and how long after."""
    done = tr("done: {text}", text=_task_of(data, tr))
    if not data.get("reached"):
        return done
    after = tr.duration(timedelta(seconds=int(str(data.get("after_s") or 0))))
    if data.get("reached_by"):
        how = tr(
            "{name} reached the customer {time} after the missed call", name=data["reached_by"], time=after
        )
    else:
        how = tr("the customer was reached {time} after the missed call", time=after)
    return Html(f"{done} — {how}")


def _outcome_word(data: dict[str, object]) -> str:
    try:
        return OUTCOME_WORDS[CallOutcome(str(data.get("outcome")))]
    except ValueError:
        return str(data.get("outcome") or "")
