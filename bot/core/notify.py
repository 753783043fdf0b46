"""Notifications, phrased: an outbox item becomes a message in its recipient's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core import actions as A
from bot.core.context import ChatContext, ChatSettings
from bot.core.direction import orient_photo, orient_view
from bot.core.features.calls import outcome_buttons
from bot.core.features.card import details
from bot.core.features.deal_view import deal_card
from bot.core.features.dialing import refusal_text
from bot.core.i18n import Tr, h, isolate
from bot.core.renderers import RENDERERS, Outgoing, renders
from bot.core.views import Button, View
from bot.core.widths import room, shorten
from crm_core.domain.deals import EventKind
from crm_core.domain.errors import NotFound
from crm_core.domain.notifications import NoteKind, NotePayload
from crm_core.domain.phones import pretty as pretty_phone
from crm_core.domain.users import User
from crm_core.services import Crm

COLLEAGUE_BUTTONS = 6  # deals a colleague-calls notice opens with a button (the rest are named)


@dataclass(frozen=True, slots=True)
class Notifier:
    """Turns outbox items into messages for their recipients (used by the delivery loop)."""

    crm: Crm
    settings: ChatSettings

    async def render(self, recipient: User, payload: NotePayload) -> list[Outgoing]:
        renderer = RENDERERS.get(payload.KIND)
        if renderer is None:
            raise LookupError(f"no renderer for notification kind {payload.KIND!r}")
        ctx = ChatContext(self.crm, recipient, Tr(recipient.locale, recipient.timezone), None, self.settings)
        return [orient(out, ctx.tr.locale) for out in await renderer(ctx, payload.to_json())]


def orient(out: Outgoing, locale: str) -> Outgoing:
    return orient_view(out, locale) if isinstance(out, View) else orient_photo(out, locale)


async def _card_or_none(ctx: ChatContext, deal_id: int | None, notice: str) -> View | None:
    if not deal_id:
        return None
    try:
        return deal_card(await details(ctx, deal_id), ctx, notice=notice)
    except NotFound:
        return None


@renders(NoteKind.DEAL_ASSIGNED)
async def deal_assigned(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    tr = ctx.tr
    if p.get("count"):
        text = "👥 " + tr.ngettext(
            "{name} handed you {n} deal.",
            "{name} handed you {n} deals.",
            int(p["count"]),
            name=p.get("from_name") or "",
        )
        return [View.of([text], [[Button.act("📋 " + tr("My deals"), A.MyDeals("0"))]])]
    notice = "👥 " + (
        tr("{name} gave you this deal:", name=p["by_name"])
        if p.get("by_name")
        else tr("This deal is yours now:")
    )
    card = await _card_or_none(ctx, p.get("deal_id"), notice)
    return [card] if card else []


@renders(NoteKind.CALL_ANSWERED)
async def call_answered(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    """The pop-up card: the deal of the customer on the line."""
    tr = ctx.tr
    caller = pretty_phone(p.get("caller"))
    notice = "📞 " + (
        tr("New customer on the line: {phone}", phone=caller)
        if p.get("created")
        else tr("On the line: {phone}", phone=caller)
    )
    if p.get("ended"):
        notice += "\n⏱ " + _ended(tr, p)
    if not p.get("created") and (note := await _last_note(ctx, p.get("deal_id"))):
        notice += "\n📝 " + h(note[:200])
    if p.get("ask_who"):
        notice += "\n👤 " + tr("Who is calling? Reply with their name, or «Name, Company».")
    card = await _card_or_none(ctx, p.get("deal_id"), notice)
    if card is not None:
        return [_with_outcomes(ctx, card, p)]
    lines = [
        notice,
        tr(
            "Their deal «{title}» belongs to {owner}.",
            title=p.get("deal_title") or "?",
            owner=p.get("owner_name") or tr("nobody yet"),
        ),
    ]
    return [View.of(lines)]


async def _last_note(ctx: ChatContext, deal_id: object) -> str | None:
    """The deal's latest note: what was said last time, for whoever takes the call."""
    if not deal_id:
        return None
    try:
        history = await ctx.crm.deals.history(deal_id=int(str(deal_id)), actor=ctx.user)
    except NotFound:
        return None
    note = next((e for e in reversed(history) if e.kind is EventKind.NOTE), None)
    return str(note.data.get("text") or "") or None if note is not None else None


def _ended(tr: Tr, p: dict[str, Any]) -> str:
    seconds = int(p.get("duration_s") or 0)
    return tr("The call ended after {time}. How did it go?", time=f"{seconds // 60}:{seconds % 60:02d}")


def _with_outcomes(ctx: ChatContext, card: View, p: dict[str, Any]) -> View:
    """An ended call's card with the outcomes on top (a call taken by the reader, on their deal)."""
    if not p.get("ended") or not p.get("call_id"):
        return card
    return View(card.html, (*(tuple(r) for r in outcome_buttons(int(p["call_id"]), ctx.tr)), *card.buttons))


@renders(NoteKind.CALL_ENDED)
async def call_ended(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    """An answered call is over: how long it took, and one tap for how it went."""
    tr = ctx.tr
    notice = "📞 " + tr("Call with {phone}", phone=pretty_phone(p.get("caller"))) + "\n⏱ " + _ended(tr, p)
    if p.get("ask_who"):
        notice += "\n👤 " + tr("Who is calling? Reply with their name, or «Name, Company».")
    card = await _card_or_none(ctx, p.get("deal_id"), notice)
    return [_with_outcomes(ctx, card, p)] if card is not None else []


def _missed_calls(tr: Tr, p: dict[str, Any]) -> str:
    """The head of a missed-call notice: one call, several from the number, or more since the last notice."""
    phone, calls = pretty_phone(p.get("caller")), max(int(p.get("calls") or 1), 1)
    if p.get("again"):
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


@renders(NoteKind.CALL_MISSED)
async def call_missed(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    tr = ctx.tr
    notice = _missed_calls(tr, p)
    card = await _card_or_none(ctx, p.get("deal_id"), notice)
    lines = [card.html] if card else [notice]
    buttons: list[list[Button]] = []
    if p.get("task_id"):
        buttons.append(
            [
                Button.act("✅ " + tr("Called back"), A.CallBackDone(int(p["task_id"]))),
                Button.act("💤 " + tr("In 1 hour"), A.TaskSnooze(int(p["task_id"]), "1h", "n")),
            ]
        )
    if p.get("deal_id"):
        opened = [Button.act("📂 " + tr("Open the deal"), A.Card(int(p["deal_id"])))]
        if p.get("task_id") and ctx.crm.config.places_calls and p.get("caller"):
            opened.insert(0, Button.act("📞 " + tr("Call"), A.Dial(int(p["deal_id"]), int(p["task_id"]))))
        buttons.append(opened)
    return [View(lines[0], tuple(tuple(r) for r in buttons))]


@renders(NoteKind.MISSED_UNOWNED)
async def missed_unowned(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    tr = ctx.tr
    calls = max(int(p.get("calls") or 1), 1)
    phone = pretty_phone(p.get("caller"))
    lines = [
        "❗ "
        + (
            tr.ngettext(
                "{n} missed call from {phone}, and nobody owns it.",
                "{n} missed calls from {phone}, and nobody owns it.",
                calls,
                phone=phone,
            )
            if calls > 1 or p.get("again")
            else tr("Missed call from {phone}, and nobody owns it.", phone=phone)
        ),
        tr("It waits in the inbox with a call-back task — give it to someone."),
    ]
    buttons = []
    if p.get("deal_id"):
        buttons.append([Button.act("📂 " + tr("Open the deal"), A.Card(int(p["deal_id"])))])
    return [View.of(lines, buttons)]


@renders(NoteKind.CALL_FLOOD)
async def call_flood(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    """A boss's one notice of a call flood, with its figures as of when it went out."""
    tr = ctx.tr

    def within(minutes: object) -> str:
        return tr.ngettext("in {n} minute", "in {n} minutes", max(int(str(minutes or 1)), 1))

    lines = [
        "📵 "
        + tr.ngettext(
            "Call flood: {n} new number called {period}.",
            "Call flood: {n} new numbers called {period}.",
            int(p.get("new_numbers") or 0),
            period=within(p.get("minutes")),
        ),
        tr(
            "Past the limit ({limit} {window}), missed calls from new numbers are recorded but make no deal, "
            "call-back or notice, so nobody is paged for each one.",
            limit=tr.number(int(p.get("limit") or 0)),
            window=within(p.get("window_minutes")),
        ),
        tr.ngettext("Held back so far: {n} call.", "Held back so far: {n} calls.", int(p.get("held") or 0)),
        tr("A number that calls again after the flood gets a deal as usual."),
    ]
    return [View.of(lines)]


@renders(NoteKind.COLLEAGUE_CALLS)
async def colleague_calls(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    """An owner's batched notice: which colleagues spoke with which of their customers."""
    tr = ctx.tr
    by_colleague: dict[object, list[dict[str, Any]]] = {}
    for line in p.get("spoke") or []:
        by_colleague.setdefault(line.get("by_id"), []).append(line)
    lines: list[str] = []
    buttons: list[list[Button]] = []
    for spoke in by_colleague.values():
        name = isolate(h(spoke[0].get("by_name") or "?"))
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
            what = tr("returned the missed call") if line.get("returned") else tr("answered their call")
            lines.append(f"• {isolate(h(line.get('title') or '?'))} — {what}")
            if line.get("deal_id") and len(buttons) < COLLEAGUE_BUTTONS:
                label = shorten("📂 " + str(line.get("title") or "?"), room(1))
                buttons.append([Button.act(label, A.Card(int(line["deal_id"])))])
    return [View.of(lines, buttons)] if lines else []


@renders(NoteKind.CALL_NOT_PLACED)
async def call_not_placed(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    """A call asked for from the card that the phone system did not place, with the deal's card."""
    notice = refusal_text(ctx.tr, str(p.get("reason") or "pbx_refused"), p.get("number"))
    card = await _card_or_none(ctx, p.get("deal_id"), notice)
    return [card or View.of([notice])]


@renders(NoteKind.CALL_UNKNOWN)
async def call_unknown(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    tr = ctx.tr
    call_id = int(p["call_id"])
    lines = ["📞 " + tr("On the line: {phone} — not in the CRM yet.", phone=pretty_phone(p.get("caller")))]
    buttons = [
        [Button.act("➕ " + tr("Create a deal"), A.CallCreate(call_id))],
        [Button.act("🔗 " + tr("Attach to a deal"), A.CallAttach(call_id))],
        [Button.act("🚫 " + tr("Not a customer"), A.CallIgnore(call_id))],
    ]
    return [View.of(lines, buttons)]


__all__ = ["RENDERERS", "Notifier", "Outgoing", "h"]
