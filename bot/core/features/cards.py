"""How the chat words deals: stages, tasks, call outcomes, history lines (the card is in deal_view)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from bot.core.i18n import Html, Tr, h
from crm_core.domain.calls import CallOutcome
from crm_core.domain.deals import Priority
from crm_core.domain.funnel import Stage, StageKind
from crm_core.domain.history import DealEvent, EventKind
from crm_core.domain.phones import pretty as pretty_phone
from crm_core.domain.tasks import TaskKind


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


def _edited_field(data: Mapping[str, Any], tr: Tr) -> str:
    """An edited field's name: one of the team's own in the reader's language (as it was named then)."""
    names = data.get("names")
    if isinstance(names, dict):
        return str(names.get(tr.locale) or names.get("en") or data.get("field", ""))
    return tr(str(data.get("field", "")))


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
            field=_edited_field(data, tr),
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
        EventKind.PIPELINE_CHANGED: lambda: tr(
            "moved from the {old} funnel to {new}, {stage}",
            old=_pipeline_of(data, "from"),
            new=_pipeline_of(data, "to"),
            stage=stage,
        ),
    }
    return Html(texts[event.kind]())


def _pipeline_of(data: dict[str, object], side: str) -> str:
    """The funnel a change of funnel came from or went to, by the name it had then."""
    return str(data.get(f"{side}_pipeline_name") or data.get(f"{side}_pipeline") or "?")


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
