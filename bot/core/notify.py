"""Notifications, phrased: an outbox item becomes a message in its recipient's language.

``note_renderers`` is the one list of which function phrases which kind of note: the chat's own here,
the features' where they live."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core import actions as A
from bot.core.context import ChatContext, ChatSettings
from bot.core.direction import orient_photo, orient_view
from bot.core.features import digest, escalation, followups, morning, tasks, team
from bot.core.features.calls import outcome_buttons
from bot.core.features.card import details
from bot.core.features.cards import STAGE_ICON
from bot.core.features.deal_view import deal_card
from bot.core.features.dialing import refusal_text
from bot.core.i18n import Tr, h, isolate
from bot.core.renderers import Outgoing, Renderers, Rendering
from bot.core.views import Button, View
from bot.core.widths import room, shorten
from crm_core.domain import notifications as notes
from crm_core.domain.errors import NotFound
from crm_core.domain.funnel import StageKind
from crm_core.domain.history import EventKind
from crm_core.domain.phones import pretty as pretty_phone
from crm_core.domain.users import User
from crm_core.services import Crm

COLLEAGUE_BUTTONS = 6  # deals a colleague-calls notice opens with a button (the rest are named)


@dataclass(frozen=True, slots=True)
class Notifier:
    """Turns outbox items into messages for their recipients (used by the delivery loop)."""

    crm: Crm
    settings: ChatSettings
    renderers: Renderers = field(default_factory=lambda: note_renderers())

    async def render(self, recipient: User, payload: notes.NotePayload) -> list[Outgoing]:
        ctx = ChatContext(self.crm, recipient, Tr(recipient.locale, recipient.timezone), None, self.settings)
        return [orient(out, ctx.tr.locale) for out in await self.renderers.render(ctx, payload)]


def orient(out: Outgoing, locale: str) -> Outgoing:
    return orient_view(out, locale) if isinstance(out, View) else orient_photo(out, locale)


async def _card_or_none(ctx: ChatContext, deal_id: int | None, notice: str) -> View | None:
    if not deal_id:
        return None
    try:
        return deal_card(await details(ctx, deal_id), ctx, notice=notice)
    except NotFound:
        return None


async def deal_assigned(ctx: ChatContext, p: notes.DealAssigned) -> list[Outgoing]:
    tr = ctx.tr
    if p.count:
        text = "👥 " + tr.ngettext(
            "{name} handed you {n} deal.",
            "{name} handed you {n} deals.",
            p.count,
            name=p.from_name or "",
        )
        return [View.of([text], [[Button.act("📋 " + tr("My deals"), A.MyDeals("0"))]])]
    notice = "👥 " + (
        tr("{name} gave you this deal:", name=p.by_name) if p.by_name else tr("This deal is yours now:")
    )
    card = await _card_or_none(ctx, p.deal_id, notice)
    return [card] if card else []


async def web_lead(ctx: ChatContext, p: notes.WebLead) -> list[Outgoing]:
    """The deal a lead from the website's form made or wrote on, under a line saying which."""
    tr = ctx.tr
    if p.created:
        notice = "🌐 " + tr("New lead from the web form {form}:", form=isolate(h(p.form_name)))
    else:
        notice = "🌐 " + tr(
            "The customer wrote again through the web form {form}:", form=isolate(h(p.form_name))
        )
    card = await _card_or_none(ctx, p.deal_id, notice)
    return [card] if card else []


async def moved_on_board(ctx: ChatContext, p: notes.DealMovedOnBoard) -> list[Outgoing]:
    """The deal's card as it is now, under a line saying where the board put it."""
    tr = ctx.tr
    try:
        found = await details(ctx, p.deal_id)
    except NotFound:  # gone, or no longer the recipient's to see
        return []
    stage = next((s for s in found.pipeline.stages if s.id == p.stage_id), None)
    gone = p.stage_name or "?"  # the stage as it was named, if it is gone since
    name = tr(stage.name if stage else gone)
    icon = STAGE_ICON[stage.kind] if stage else "🗂"
    if stage is not None and stage.kind is StageKind.WON:
        notice = "🏆 " + tr("Won on the board! Well done.")
    else:
        notice = f"{icon} " + tr("Moved to {stage} on the board.", stage=name)
    return [deal_card(found, ctx, notice=notice)]


# -- calls -----------------------------------------------------------------------------------------


async def call_answered(ctx: ChatContext, p: notes.CallAnswered) -> list[Outgoing]:
    """The pop-up card: the deal of the customer on the line."""
    tr = ctx.tr
    caller = pretty_phone(p.caller)
    notice = "📞 " + (
        tr("New customer on the line: {phone}", phone=caller)
        if p.created
        else tr("On the line: {phone}", phone=caller)
    )
    if p.ended:
        notice += "\n⏱ " + _ended(tr, p.duration_s)
    if not p.created and (note := await _last_note(ctx, p.deal_id)):
        notice += "\n📝 " + h(note[:200])
    if p.ask_who:
        notice += "\n👤 " + tr("Who is calling? Reply with their name, or «Name, Company».")
    card = await _card_or_none(ctx, p.deal_id, notice)
    if card is not None:
        return [_with_outcomes(ctx, card, p.call_id, ended=p.ended)]
    lines = [
        notice,
        tr(
            "Their deal «{title}» belongs to {owner}.",
            title=p.deal_title or "?",
            owner=p.owner_name or tr("nobody yet"),
        ),
    ]
    return [View.of(lines)]


async def _last_note(ctx: ChatContext, deal_id: int | None) -> str | None:
    """The deal's latest note: what was said last time, for whoever takes the call."""
    if not deal_id:
        return None
    try:
        history = await ctx.crm.deals.history(deal_id=deal_id, actor=ctx.user)
    except NotFound:
        return None
    note = next((e for e in reversed(history) if e.kind is EventKind.NOTE), None)
    return str(note.data.get("text") or "") or None if note is not None else None


def _ended(tr: Tr, duration_s: int | None) -> str:
    seconds = duration_s or 0
    return tr("The call ended after {time}. How did it go?", time=f"{seconds // 60}:{seconds % 60:02d}")


def _with_outcomes(ctx: ChatContext, card: View, call_id: int, *, ended: bool) -> View:
    """An ended call's card with the outcomes on top (a call taken by the reader, on their deal)."""
    if not ended or not call_id:
        return card
    return View(card.html, (*(tuple(r) for r in outcome_buttons(call_id, ctx.tr)), *card.buttons))


async def call_ended(ctx: ChatContext, p: notes.CallEnded) -> list[Outgoing]:
    """An answered call is over: how long it took, and one tap for how it went."""
    tr = ctx.tr
    notice = "📞 " + tr("Call with {phone}", phone=pretty_phone(p.caller)) + "\n⏱ " + _ended(tr, p.duration_s)
    if p.ask_who:
        notice += "\n👤 " + tr("Who is calling? Reply with their name, or «Name, Company».")
    card = await _card_or_none(ctx, p.deal_id, notice)
    return [_with_outcomes(ctx, card, p.call_id, ended=p.ended)] if card is not None else []


def _missed_calls(tr: Tr, p: notes.CallMissed) -> str:
    """The head of a missed-call notice: one call, several from the number, or more since the last notice."""
    phone, calls = pretty_phone(p.caller), max(p.calls, 1)
    if p.again:
        return "❗ " + tr.ngettext(
            "{phone} called again: {n} more missed call — please call back.",
            "{phone} called again: {n} more missed calls — please call back.",
            calls,
            phone=phone,
        )
    if calls > 1:
        return "❗ " + tr.ngettext(
            "{n} missed call from {phone} — please call back.",
            "{n} missed calls from {phone} — please call back.",
            calls,
            phone=phone,
        )
    return "❗ " + tr("Missed call from {phone} — please call back.", phone=phone)


async def call_missed(ctx: ChatContext, p: notes.CallMissed) -> list[Outgoing]:
    tr = ctx.tr
    notice = _missed_calls(tr, p)
    card = await _card_or_none(ctx, p.deal_id, notice)
    lines = [card.html] if card else [notice]
    buttons: list[list[Button]] = []
    if p.task_id:
        buttons.append(
            [
                Button.act("✅ " + tr("Called back"), A.CallBackDone(p.task_id)),
                Button.act("💤 " + tr("In 1 hour"), A.TaskSnooze(p.task_id, "1h", "n")),
            ]
        )
    if p.deal_id:
        opened = [Button.act("📂 " + tr("Open the deal"), A.Card(p.deal_id))]
        if p.task_id and ctx.crm.config.places_calls and p.caller:
            opened.insert(0, Button.act("📞 " + tr("Call"), A.Dial(p.deal_id, p.task_id)))
        buttons.append(opened)
    return [View(lines[0], tuple(tuple(r) for r in buttons))]


async def missed_unowned(ctx: ChatContext, p: notes.MissedUnowned) -> list[Outgoing]:
    tr = ctx.tr
    calls = max(p.calls, 1)
    phone = pretty_phone(p.caller)
    lines = [
        "❗ "
        + (
            tr.ngettext(
                "{n} missed call from {phone}, and nobody owns it.",
                "{n} missed calls from {phone}, and nobody owns it.",
                calls,
                phone=phone,
            )
            if calls > 1 or p.again
            else tr("Missed call from {phone}, and nobody owns it.", phone=phone)
        ),
        tr("It waits in the inbox with a call-back task — give it to someone."),
    ]
    buttons = []
    if p.deal_id:
        buttons.append([Button.act("📂 " + tr("Open the deal"), A.Card(p.deal_id))])
    return [View.of(lines, buttons)]


async def call_flood(ctx: ChatContext, p: notes.CallFlood) -> list[Outgoing]:
    """A boss's one notice of a call flood, with its figures as of when it went out."""
    tr = ctx.tr

    def within(minutes: int) -> str:
        return tr.ngettext("in {n} minute", "in {n} minutes", max(minutes or 1, 1))

    lines = [
        "📵 "
        + tr.ngettext(
            "Call flood: {n} new number called {period}.",
            "Call flood: {n} new numbers called {period}.",
            p.new_numbers,
            period=within(p.minutes),
        ),
        tr(
            "Past the limit ({limit} {window}), missed calls from new numbers are recorded but make no deal, "
            "call-back or notice, so nobody is paged for each one.",
            limit=tr.number(p.limit),
            window=within(p.window_minutes),
        ),
        tr.ngettext("Held back so far: {n} call.", "Held back so far: {n} calls.", p.held),
        tr("A number that calls again after the flood gets a deal as usual."),
    ]
    return [View.of(lines)]


async def colleague_calls(ctx: ChatContext, p: notes.ColleagueCalls) -> list[Outgoing]:
    """An owner's batched notice: which colleagues spoke with which of their customers."""
    tr = ctx.tr
    by_colleague: dict[int, list[notes.ColleagueCallLine]] = {}
    for line in p.spoke:
        by_colleague.setdefault(line.by_id, []).append(line)
    lines: list[str] = []
    buttons: list[list[Button]] = []
    for spoke in by_colleague.values():
        name = isolate(h(spoke[0].by_name or "?"))
        lines.append(
            "📞 "
            + tr.ngettext(
                "{name} spoke with {n} of your customers:",
                "{name} spoke with {n} of your customers:",
                len(spoke),
                name=name,
            )
        )
        for line in spoke:
            what = tr("returned the missed call") if line.returned else tr("answered their call")
            lines.append(f"• {isolate(h(line.title or '?'))} — {what}")
            if line.deal_id and len(buttons) < COLLEAGUE_BUTTONS:
                label = shorten("📂 " + (line.title or "?"), room(1))
                buttons.append([Button.act(label, A.Card(line.deal_id))])
    return [View.of(lines, buttons)] if lines else []


async def call_not_placed(ctx: ChatContext, p: notes.CallNotPlaced) -> list[Outgoing]:
    """A call asked for from the card that the phone system did not place, with the deal's card."""
    notice = refusal_text(ctx.tr, p.reason or "pbx_refused", p.number)
    card = await _card_or_none(ctx, p.deal_id, notice)
    return [card or View.of([notice])]


async def call_unknown(ctx: ChatContext, p: notes.CallUnknown) -> list[Outgoing]:
    tr = ctx.tr
    call_id = p.call_id
    lines = ["📞 " + tr("On the line: {phone} — not in the CRM yet.", phone=pretty_phone(p.caller))]
    buttons = [
        [Button.act("➕ " + tr("Create a deal"), A.CallCreate(call_id))],
        [Button.act("🔗 " + tr("Attach to a deal"), A.CallAttach(call_id))],
        [Button.act("🚫 " + tr("Not a customer"), A.CallIgnore(call_id))],
    ]
    return [View.of(lines, buttons)]


def note_renderers() -> Renderers:
    """Which function phrases each kind of note: one for every kind the core queues."""
    return Renderers(
        [
            Rendering(notes.DealAssigned, deal_assigned),
            Rendering(notes.DealMovedOnBoard, moved_on_board),
            Rendering(notes.WebLead, web_lead),
            Rendering(notes.CallAnswered, call_answered),
            Rendering(notes.CallEnded, call_ended),
            Rendering(notes.CallMissed, call_missed),
            Rendering(notes.MissedUnowned, missed_unowned),
            Rendering(notes.CallUnknown, call_unknown),
            Rendering(notes.CallNotPlaced, call_not_placed),
            Rendering(notes.CallFlood, call_flood),
            Rendering(notes.ColleagueCalls, colleague_calls),
            Rendering(notes.StaleReminder, followups.stale_reminder),
            Rendering(notes.Escalation, escalation.escalation),
            Rendering(notes.Nudge, escalation.nudge),
            Rendering(notes.TaskDue, tasks.task_due),
            Rendering(notes.MorningPlan, morning.morning_plan),
            Rendering(notes.Digest, digest.digest_note),
            Rendering(notes.InviteUsed, team.invite_used),
        ]
    )


__all__ = ["Notifier", "Outgoing", "h", "note_renderers"]
