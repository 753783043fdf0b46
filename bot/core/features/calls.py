"""The call pop-up's buttons: make the caller a deal, attach the call to a deal, or let it go; once an
answered call ended, how it ended; and a deal's calls, with their recordings."""

from __future__ import annotations

from datetime import timedelta

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.events import SharedContact, Text
from bot.core.features.card import ask, back_to_card, details, lost_menu, show_card
from bot.core.features.cards import OUTCOME_LABELS, OUTCOME_WORDS, stage_label
from bot.core.features.deal_view import deal_label, deal_lines
from bot.core.i18n import Tr, h
from bot.core.routing import Router
from bot.core.views import Button, Reply, SendAudio, View, rows
from crm_core.domain.calls import CallOutcome, CallRecord
from crm_core.domain.conversations import Dialog
from crm_core.domain.errors import InvalidInput, Why
from crm_core.domain.recordings import RecordingState
from crm_core.services.call_backs import WHO_IS_CALLING

router = Router("calls")


@router.button(A.CallCreate)
async def on_create(ctx: ChatContext, p: A.CallCreate) -> Reply:
    """Make the caller a new deal (or open the one they have)."""
    deal = await ctx.crm.calls.create_deal_from_call(call_id=p.call_id, actor=ctx.user)
    return await show_card(ctx, deal.id, notice="📞 " + ctx.tr("The call is on this deal now."))


@router.button(A.CallAttach)
async def on_attach(ctx: ChatContext, p: A.CallAttach) -> Reply:
    """Offer the user's recent deals to attach the call to."""
    deals = await ctx.crm.calls.recent_open_deals(actor=ctx.user)
    tr = ctx.tr
    if not deals:
        return Reply().answer(tr("You have no open deals — create one instead."), alert=True)
    labelled = [(d, *deal_label(d, ctx, details=[stage_label(d.stage, tr)])) for d in deals]
    rows = [[Button.act(label, A.CallAttachTo(p.call_id, d.id))] for d, label, _ in labelled]
    rows.append([Button.act("➕ " + tr("Create a deal"), A.CallCreate(p.call_id))])
    lines = ["🔗 " + tr("Attach the call to which deal?")]
    lines += deal_lines([(d, dropped) for d, _, dropped in labelled], ctx)
    return Reply().edit(ctx.message_id, View.of(lines, rows))


@router.button(A.CallAttachTo)
async def on_attach_to(ctx: ChatContext, p: A.CallAttachTo) -> Reply:
    """Attach the call to the chosen deal."""
    deal = await ctx.crm.calls.attach_call(call_id=p.call_id, deal_id=p.deal_id, actor=ctx.user)
    return await show_card(ctx, deal.id, notice="🔗 " + ctx.tr("The call is on this deal now."))


@router.button(A.CallIgnore)
async def on_ignore(ctx: ChatContext, p: A.CallIgnore) -> Reply:
    """Not a customer: nothing to record."""
    return Reply().edit(ctx.message_id, View.of(["🚫 " + ctx.tr("Noted: not a customer.")]))


def outcome_buttons(call_id: int, tr: Tr) -> list[list[Button]]:
    """One tap says how the call ended: three and two to a row."""
    buttons = [
        Button.act(OUTCOME_LABELS[o] + tr.label(OUTCOME_WORDS[o]), A.SetCallOutcome(call_id, o.value))
        for o in CallOutcome
    ]
    return [buttons[:3], buttons[3:]]


@router.button(A.SetCallOutcome)
async def on_outcome(ctx: ChatContext, p: A.SetCallOutcome) -> Reply:
    """Keep how the call ended, then offer what follows: the next stage, a reason, a note."""
    try:
        outcome = CallOutcome(p.outcome)
    except ValueError:
        raise InvalidInput("outcome", p.outcome, Why.NOT_AN_OUTCOME) from None
    done = await ctx.crm.call_outcomes.record(call_id=p.call_id, outcome=outcome, actor=ctx.user)
    tr, deal = ctx.tr, done.deal
    if outcome is CallOutcome.NOT_INTERESTED and not deal.is_closed:
        return await lost_menu(ctx, await details(ctx, deal.id))
    if outcome is CallOutcome.NOTE:
        return await ask(
            ctx, "note", {"deal_id": deal.id}, tr("Write the note for «{title}»:", title=deal.title)
        )
    if done.call_back is not None:
        notice = "📞 " + tr("Call-back planned: {when}.", when=tr.when(done.call_back.due_at, now=ctx.now))
    else:
        notice = "🗣 " + tr("Talked. Move the deal on, or plan its next step (⏰ Remind).")
    return await show_card(ctx, deal.id, notice=notice)


@router.flow(WHO_IS_CALLING)
async def on_who_is_calling(ctx: ChatContext, dialog: Dialog, event: Text | SharedContact) -> Reply:
    """Name the new caller from one reply, "Name" or "Name, Company": the contact and the deal's title."""
    words = " ".join(event.text.replace("،", ",").split()) if isinstance(event, Text) else ""
    name, _, company = (part.strip() for part in words.partition(","))
    if not name:
        raise InvalidInput("name", words, Why.EMPTY)
    deal_id = int(dialog.data["deal_id"])
    changes = {"contact": name, "title": f"{name}, {company}" if company else name}
    if company:
        changes["company"] = company
    await ctx.crm.deals.edit_fields(deal_id=deal_id, changes=changes, actor=ctx.user)
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    return await show_card(
        ctx, deal_id, notice="👤 " + ctx.tr("Saved: {name}.", name=changes["title"]), edit=False
    )


_ARROWS = {"inbound": "↙️", "outbound": "↗️", "internal": "↔️"}


def _call_line(call: CallRecord, ctx: ChatContext) -> str:
    tr = ctx.tr
    status = tr("answered") if call.status.value == "answered" else "❗ " + tr("missed")
    length = f" · {tr.duration(timedelta(seconds=call.duration_s))}" if call.duration_s else ""
    return f"{_ARROWS[call.direction.value]} {tr.when(call.started_at, now=ctx.now)} · {status}{length}"


@router.button(A.Calls)
async def on_calls(ctx: ChatContext, p: A.Calls) -> Reply:
    """List the deal's calls; a recorded one gets a "🎧" button that sends its recording."""
    found = await details(ctx, p.deal_id)
    calls = await ctx.crm.calls.of_deal(deal_id=found.deal.id, actor=ctx.user)
    recordings = await ctx.crm.recordings.of_deal(deal_id=found.deal.id, actor=ctx.user)
    tr = ctx.tr
    lines = [f"📞 <b>{h(found.deal.title)}</b>"]
    listen: list[Button] = []
    for call in calls:
        line, recording = _call_line(call, ctx), recordings.get(call.id)
        if recording is not None and recording.state is RecordingState.STORED:
            listen.append(Button.act(f"🎧 {len(listen) + 1}", A.Listen(call.id)))
            line += f" · 🎧 {len(listen)}"
        elif recording is not None and recording.state is RecordingState.DELETED:
            line += " · <i>" + tr("recording deleted") + "</i>"
        lines.append(line)
    if found.call_count > len(calls):
        earlier = found.call_count - len(calls)
        lines.append(
            "<i>" + tr.ngettext("…and {n} earlier call.", "…and {n} earlier calls.", earlier) + "</i>"
        )
    return Reply().edit(ctx.message_id, View.of(lines, [*rows(listen, 3), back_to_card(ctx, found.deal.id)]))


@router.button(A.Listen)
async def on_listen(ctx: ChatContext, p: A.Listen) -> Reply:
    """Send the call's recording as audio, to someone who may see its deal."""
    audio = await ctx.crm.recordings.for_listening(call_id=p.call_id, actor=ctx.user)
    tr = ctx.tr
    title = audio.deal_title or tr("Call recording")
    when = tr.when(audio.started_at, now=ctx.now)
    length = f" · {tr.duration(timedelta(seconds=audio.duration_s))}" if audio.duration_s else ""
    caption = f"🎧 <b>{h(title)}</b>\n{when}{length}"
    send = SendAudio(audio.data, audio.file_name, caption, title=title[:64], duration_s=audio.duration_s)
    reply = Reply().answer()
    reply.actions.append(send)
    return reply
