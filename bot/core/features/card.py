"""The deal card and what its buttons do: move, win, lose, note, take, reassign, history (editing is
in card_edit, reminders in remind)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.dialogs import AskedIn, CardQuestion, LostQuestion, NoteQuestion, RequiredQuestion
from bot.core.events import SharedContact, Text
from bot.core.features.cards import STAGE_ICON, event_text, stage_name
from bot.core.features.deal_view import deal_card, stage_buttons
from bot.core.features.field_questions import field_question
from bot.core.features.funnel_picks import ICON, funnels
from bot.core.i18n import h
from bot.core.routing import Router
from bot.core.views import Button, Reply, View
from bot.core.when import EPOCH, PassedDate
from crm_core.domain.conversations import Dialog
from crm_core.domain.deals import MAX_LOST_NOTE, Deal
from crm_core.domain.errors import InvalidInput, StaleVersion, Why
from crm_core.domain.fields import FieldsRequired
from crm_core.domain.funnel import OTHER_REASON as OTHER
from crm_core.domain.funnel import StageKind
from crm_core.domain.history import DealEvent
from crm_core.services.deals import DealDetails

router = Router("card")
HISTORY_PAGE = 10


async def details(
    ctx: ChatContext, deal_id: int, version: int | None = None, *, changed: Deal | None = None
) -> DealDetails:
    """The deal as the card shows it; ``StaleVersion`` when the user saw an older version."""
    found = await ctx.crm.deals.details(deal_id=deal_id, actor=ctx.user, changed=changed)
    await funnels(ctx)  # the card names the deal's funnel when there are several
    if version is not None and found.deal.version != version:
        raise StaleVersion(deal_id)
    return found


async def show_card(ctx: ChatContext, deal_id: int, *, notice: str | None = None, edit: bool = True) -> Reply:
    view = deal_card(await details(ctx, deal_id), ctx, notice=notice)
    return Reply().edit(ctx.message_id, view) if edit else Reply().send(view)


async def show_moved(ctx: ChatContext, deal: Deal) -> Reply:
    """The card redrawn after a move, saying where the deal went."""
    view = deal_card(await details(ctx, deal.id, changed=deal), ctx, notice=moved_notice(ctx, deal))
    return Reply().edit(ctx.message_id, view)


def moved_notice(ctx: ChatContext, deal: Deal) -> str:
    tr = ctx.tr
    if deal.stage.kind is StageKind.WON:
        return "🏆 " + tr("Won! Well done.")
    if deal.stage.kind is StageKind.LOST:
        return "🚫 " + tr("Marked as lost.")
    return f"{STAGE_ICON[deal.stage.kind]} " + tr("Moved to {stage}.", stage=stage_name(deal.stage, tr))


def back_to_card(ctx: ChatContext, deal_id: int) -> list[Button]:
    return [Button.act("⬅ " + ctx.tr("Back to the card"), A.Card(deal_id))]


@router.button(A.Card, within_update=True)
async def on_card(ctx: ChatContext, p: A.Card) -> Reply:
    """Open a deal's card (from a question asked in it: the question is dropped)."""
    dialog = await ctx.crm.dialogs.get(ctx.user.telegram_id)
    if dialog is not None and ctx.message_id and asked_in(dialog) == ctx.message_id:
        await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    return await show_card(ctx, p.deal_id)


@router.button(A.CardFrom, within_update=True)
async def on_card_from(ctx: ChatContext, p: A.CardFrom) -> Reply:
    """Open a deal's card from a list, with the way back to it."""
    view = deal_card(await details(ctx, p.deal_id), ctx, back=p.back)
    return Reply().edit(ctx.message_id, view)


@router.button(A.More, within_update=True)
async def on_more(ctx: ChatContext, p: A.More) -> Reply:
    """Show the card's less frequent buttons."""
    view = deal_card(await details(ctx, p.deal_id), ctx, more=True, back=p.back)
    return Reply().edit(ctx.message_id, view)


@router.button(A.Next, A.Prev, within_update=True)
async def on_step(ctx: ChatContext, p: A.Next | A.Prev) -> Reply:
    """Move the deal one stage forward or back (a closed deal: reopen it) and redraw its card."""
    deal_id, version = p.deal_id, p.version
    if isinstance(p, A.Next):
        try:
            deal = await ctx.crm.deals.move_next(deal_id=deal_id, actor=ctx.user, expected_version=version)
        except FieldsRequired as missing:
            return await ask_required(ctx, missing)
    elif (await details(ctx, deal_id, version)).deal.is_closed:
        deal = await ctx.crm.deals.reopen(deal_id=deal_id, actor=ctx.user, expected_version=version)
        view = deal_card(await details(ctx, deal.id, changed=deal), ctx, notice=reopened_notice(ctx, deal))
        return Reply().edit(ctx.message_id, view)
    else:
        deal = await ctx.crm.deals.move_previous(deal_id=deal_id, actor=ctx.user, expected_version=version)
    return await show_moved(ctx, deal)


def reopened_notice(ctx: ChatContext, deal: Deal) -> str:
    return "↩ " + ctx.tr("Reopened in {stage}.", stage=stage_name(deal.stage, ctx.tr))


@router.button(A.MoveMenu, within_update=True)
async def on_move_menu(ctx: ChatContext, p: A.MoveMenu) -> Reply:
    """Offer every other stage."""
    found = await details(ctx, p.deal_id, p.version)
    deal = found.deal
    buttons = stage_buttons(found.pipeline, ctx, partial(A.Move, deal.id, deal.version), exclude=deal.stage)
    lines = [f"<b>{h(deal.title)}</b>", ctx.tr("Move to which stage?")]
    if len(await funnels(ctx)) > 1:  # or to another funnel's stage
        label = f"{ICON} " + ctx.tr.label("Another funnel…")
        buttons.append([Button.act(label, A.FunnelMenu(deal.id, deal.version))])
    return Reply().edit(ctx.message_id, View.of(lines, [*buttons, back_to_card(ctx, deal.id)]))


@router.button(A.Move, within_update=True)
async def on_move(ctx: ChatContext, p: A.Move) -> Reply:
    """Move to the chosen stage; a lost stage first asks why."""
    deal_id, version, stage_id = p.deal_id, p.version, p.stage_id
    found = await details(ctx, deal_id, version)
    target = found.pipeline.stage(stage_id)
    if target.kind is StageKind.LOST:
        return await lost_menu(ctx, found)
    try:
        deal = await ctx.crm.deals.move(
            deal_id=deal_id, to_stage=stage_id, actor=ctx.user, expected_version=version
        )
    except FieldsRequired as missing:
        return await ask_required(ctx, missing)
    return await show_moved(ctx, deal)


@router.button(A.Won, within_update=True)
async def on_won(ctx: ChatContext, p: A.Won) -> Reply:
    """Close the deal as won (asking first for the fields a win requires)."""
    try:
        deal = await ctx.crm.deals.mark_won(deal_id=p.deal_id, actor=ctx.user, expected_version=p.version)
    except FieldsRequired as missing:
        return await ask_required(ctx, missing)
    reply = await show_moved(ctx, deal)
    return reply.answer("🏆 " + ctx.tr("Won!"))


async def ask_required(ctx: ChatContext, missing: FieldsRequired, *, message_id: int | None = None) -> Reply:
    """Ask for the first field a move waits for, in the card's message; the answer saves it and the
    move is tried again (``deal_fields``), until it needs nothing more."""
    found = await details(ctx, missing.deal_id)
    definition = next(d for d in await ctx.crm.fields.definitions() if d.key == missing.keys[0])
    target = found.pipeline.find(missing.stage)
    current = {d.key: v for d, v in found.fields}.get(definition.key, ())
    where = message_id or ctx.message_id
    state = RequiredQuestion(deal_id=found.deal.id, message_id=where, stage_id=target.id, key=definition.key)
    await ctx.crm.dialogs.put(ctx.user.telegram_id, state, step="answer")
    lines, buttons = field_question(ctx.tr, found.deal, definition, current, stage=target)
    return Reply().edit(where, question_view(ctx, found.deal.id, lines, buttons))


async def lost_menu(ctx: ChatContext, found: DealDetails) -> Reply:
    deal = found.deal
    reasons = await ctx.crm.pipelines.lost_reasons()
    buttons = [
        Button.act(
            ctx.tr(r),
            A.LostOther(deal.id, deal.version) if r == OTHER else A.Lost(deal.id, deal.version, i),
        )
        for i, r in enumerate(reasons)
    ]
    if OTHER not in reasons:
        buttons.append(Button.act(ctx.tr(OTHER), A.LostOther(deal.id, deal.version)))
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    lines = [f"<b>{h(deal.title)}</b>", ctx.tr("Why was it lost?")]
    return Reply().edit(ctx.message_id, View.of(lines, [*rows, back_to_card(ctx, deal.id)]))


@router.button(A.LostMenu, within_update=True)
async def on_lost_menu(ctx: ChatContext, p: A.LostMenu) -> Reply:
    """Ask for the reason the deal was lost."""
    return await lost_menu(ctx, await details(ctx, p.deal_id, p.version))


@router.button(A.Lost, within_update=True)
async def on_lost(ctx: ChatContext, p: A.Lost) -> Reply:
    """Close the deal as lost for the chosen reason."""
    reasons = await ctx.crm.pipelines.lost_reasons()
    index = p.reason
    if index >= len(reasons):
        raise InvalidInput("lost reason", index, Why.NOT_VALID)
    deal = await ctx.crm.deals.mark_lost(
        deal_id=p.deal_id, reason=reasons[index], actor=ctx.user, expected_version=p.version
    )
    return await show_moved(ctx, deal)


async def ask(ctx: ChatContext, state: CardQuestion, question: str) -> Reply:
    """Start a one-question dialog in the card's own message (no copy of the card left behind); the
    answer comes as the user's next message, and the card comes back in the same place."""
    await ctx.crm.dialogs.put(ctx.user.telegram_id, replace(state, message_id=ctx.message_id), step="answer")
    return Reply().edit(ctx.message_id, question_view(ctx, state.deal_id, [question]))


def question_view(
    ctx: ChatContext, deal_id: int, lines: list[str], buttons: Sequence[list[Button]] = ()
) -> View:
    hint = "<i>" + ctx.tr("Send /cancel to stop.") + "</i>"
    return View.of([*lines, hint], [*buttons, back_to_card(ctx, deal_id)])


def asked_in(dialog: Dialog) -> int | None:
    """The message a dialog's question was asked in: the card's."""
    return dialog.state(AskedIn).message_id or None


def ask_again(
    ctx: ChatContext, dialog: Dialog, lines: list[str], buttons: Sequence[list[Button]] = ()
) -> Reply:
    """The question again after an answer that would not do, in the message that asked it."""
    view = question_view(ctx, dialog.state(CardQuestion).deal_id, lines, buttons)
    return Reply().edit(asked_in(dialog), view)


@router.button(A.LostOther)
async def on_lost_other(ctx: ChatContext, p: A.LostOther) -> Reply:
    """Ask for the lost reason in the user's own words."""
    await details(ctx, p.deal_id, p.version)
    question = ctx.tr("Why was it lost? A few words:")
    return await ask(ctx, LostQuestion(deal_id=p.deal_id, version=p.version), question)


@router.button(A.Note)
async def on_note(ctx: ChatContext, p: A.Note) -> Reply:
    """Ask for a note."""
    found = await details(ctx, p.deal_id)
    return await ask(
        ctx,
        NoteQuestion(deal_id=found.deal.id),
        ctx.tr("Write the note for «{title}»:", title=found.deal.title),
    )


EDIT_FIELDS = {  # the fields the card's Edit offers (card_edit asks for them)
    "title": "Title",
    "amount": "Amount",
    "contact": "Contact name",
    "phone": "Phone",
    "company": "Company",
}


@router.button(A.Take, within_update=True)
async def on_take(ctx: ChatContext, p: A.Take) -> Reply:
    """Take an unassigned deal from the inbox."""
    deal = await ctx.crm.deals.take(deal_id=p.deal_id, actor=ctx.user, expected_version=p.version)
    return await show_card(ctx, deal.id, notice="🙋 " + ctx.tr("The deal is yours now."))


@router.button(A.ReassignMenu)
async def on_reassign_menu(ctx: ChatContext, p: A.ReassignMenu) -> Reply:
    """Offer the team to hand the deal to (bosses)."""
    found = await details(ctx, p.deal_id, p.version)
    deal = found.deal
    people = [u for u in await ctx.crm.users.list(actor=ctx.user, active=True) if u.id != deal.owner_id]
    buttons = [
        Button.act(("👑 " if u.is_boss else "") + u.name, A.Reassign(deal.id, deal.version, u.id))
        for u in people
    ]
    if deal.owner is not None:
        buttons.append(Button.act("∅ " + ctx.tr("Nobody (inbox)"), A.Reassign(deal.id, deal.version, 0)))
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    lines = [f"<b>{h(deal.title)}</b>", ctx.tr("Give this deal to:")]
    return Reply().edit(ctx.message_id, View.of(lines, [*rows, back_to_card(ctx, deal.id)]))


@router.button(A.Reassign)
async def on_reassign(ctx: ChatContext, p: A.Reassign) -> Reply:
    """Hand the deal to someone else, or to nobody."""
    target = None
    if p.user_id:
        user = await ctx.crm.users.get(p.user_id)
        if user is None:
            raise InvalidInput("owner", p.user_id)
        target = user.telegram_id
    deal = await ctx.crm.deals.reassign(
        deal_id=p.deal_id, owner_telegram_id=target, actor=ctx.user, expected_version=p.version
    )
    who = deal.owner.name if deal.owner else ctx.tr("nobody")
    return await show_card(ctx, deal.id, notice="👥 " + ctx.tr("Given to {name}.", name=who))


def _event_line(event: DealEvent, ctx: ChatContext, names: Mapping[int, str], currency: str) -> str:
    tr = ctx.tr
    who = h(event.actor_name or (tr("system") if event.actor_system else ""))
    text = event_text(event, names.get(event.to_stage_id or 0, "?"), tr, currency)
    when = tr.when(event.at, now=ctx.now)
    return f"<i>{when}</i> · {who}: {text}" if who else f"<i>{when}</i> · {text}"


@router.button(A.History)
async def on_history(ctx: ChatContext, p: A.History) -> Reply:
    """Show the deal's history, newest first, a page at a time."""
    deal_id, page = p.deal_id, p.page
    found = await details(ctx, deal_id)
    events = await ctx.crm.deals.history(deal_id=deal_id, actor=ctx.user, newest_first=True)
    names = {s.id: stage_name(s, ctx.tr) for f in await funnels(ctx) for s in f.stages}
    chunk = events[page * HISTORY_PAGE : (page + 1) * HISTORY_PAGE]
    currency = found.deal.currency
    lines = [f"📜 <b>{h(found.deal.title)}</b>", *(_event_line(e, ctx, names, currency) for e in chunk)]
    nav = []
    if page > 0:
        nav.append(Button.act("◀", A.History(deal_id, page - 1)))
    if (page + 1) * HISTORY_PAGE < len(events):
        nav.append(Button.act("▶", A.History(deal_id, page + 1)))
    return Reply().edit(ctx.message_id, View.of(lines, [nav, back_to_card(ctx, deal_id)]))


# -- the answers to the questions above ------------------------------------------------------------


def typed(event: Text | SharedContact) -> str:
    return event.text if isinstance(event, Text) else event.phone


async def answered(ctx: ChatContext, dialog: Dialog, notice: str) -> Reply:
    """Close the dialog and bring the card back where the question was asked: one card per deal."""
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    found = await details(ctx, dialog.state(CardQuestion).deal_id)
    return Reply().edit(asked_in(dialog), deal_card(found, ctx, notice=notice))


@router.flow(NoteQuestion.FLOW)
async def on_note_text(ctx: ChatContext, dialog: Dialog, event: Text | SharedContact) -> Reply:
    """Save the note."""
    deal_id = dialog.state(NoteQuestion).deal_id
    await ctx.crm.deals.add_note(deal_id=deal_id, text=typed(event), actor=ctx.user)
    return await answered(ctx, dialog, "📝 " + ctx.tr("Note saved."))


@router.flow(LostQuestion.FLOW)
async def on_lost_text(ctx: ChatContext, dialog: Dialog, event: Text | SharedContact) -> Reply:
    """Close the deal as lost with the typed reason."""
    words = " ".join(typed(event).split())[:MAX_LOST_NOTE]
    if not words:
        return ask_again(ctx, dialog, [ctx.tr("Why was it lost? A few words:")])
    asked = dialog.state(LostQuestion)
    deal = await ctx.crm.deals.mark_lost(
        deal_id=asked.deal_id, reason=OTHER, note=words, actor=ctx.user, expected_version=asked.version
    )
    return await answered(ctx, dialog, moved_notice(ctx, deal))


def passed_date(ctx: ChatContext, dialog: Dialog, error: PassedDate, question: str) -> Reply:
    """A day typed without a year that has passed: say so, and offer that day next year as a button
    (never taken for it silently: a typo would put a deal away for a year)."""
    lines = ["⚠️ " + ctx.tr("That date has passed."), question]
    buttons = []
    if error.next_year is not None:
        minutes = int((error.next_year - EPOCH).total_seconds() // 60)
        label = "📅 " + ctx.tr.label("Next year: {when}", when=ctx.tr.when(error.next_year, now=ctx.now))
        buttons.append([Button.act(label, A.WhenAt(minutes, dialog.draft))])
    return ask_again(ctx, dialog, lines, buttons)
