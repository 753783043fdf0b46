"""/new: a deal in four short questions — title, contact, phone, amount — then a summary to confirm."""

from __future__ import annotations

from dataclasses import replace

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.dialogs import NewDealDraft
from bot.core.errors import explain
from bot.core.events import SharedContact, Text
from bot.core.features.card import show_card
from bot.core.features.funnel_picks import (
    funnel,
    funnel_line,
    funnel_rows,
    last_used_first,
    remember,
    several,
)
from bot.core.i18n import Html, h
from bot.core.routing import Router
from bot.core.views import Button, Reply, View, fit, short
from crm_core.domain.contacts import KnownCustomer
from crm_core.domain.conversations import Dialog
from crm_core.domain.errors import CrmError, InvalidInput, Why
from crm_core.domain.phones import pretty as pretty_phone
from crm_core.domain.phones import to_e164
from crm_core.domain.users import valid_name
from crm_core.domain.values import parse_amount, valid_title

router = Router("new_deal")
FLOW = NewDealDraft.FLOW
STEPS = ("title", "contact", "phone", "amount", "confirm")  # after "pipeline", with several funnels


async def funnel_question(ctx: ChatContext, draft: int) -> View:
    """Which funnel the new deal opens in (the one last used first)."""
    tr = ctx.tr
    rows = funnel_rows(await last_used_first(ctx), lambda pipeline: A.NewFunnel(draft, pipeline), one=True)
    cancel = [Button.act("✖️ " + tr("Cancel"), A.NewCancel(draft))]
    return View.of(["➕ <b>" + tr("New deal") + "</b>", tr("In which funnel?")], [*rows, cancel])


def question(ctx: ChatContext, step: str, draft: int) -> View:
    tr = ctx.tr
    cancel = [Button.act("✖️ " + tr("Cancel"), A.NewCancel(draft))]
    skip = [[Button.act("⏭ " + tr("Skip"), A.NewSkip(draft))], cancel]
    if step == "title":
        return View.of(
            [
                "➕ <b>" + tr("New deal") + "</b>",
                tr("What is the deal? Send a short title, e.g. «ACME: 20 IP phones»."),
            ],
            [cancel],
        )
    if step == "contact":
        return View.of(
            [tr("Who is the customer? Send their name, or share a contact from your phone book.")], skip
        )
    if step == "phone":
        return View.of([tr("Their phone number? Any format is fine.")], skip)
    return View.of([tr('The amount? e.g. "1 500,50" or "15k".')], skip)


def customer_lines(ctx: ChatContext, customer: KnownCustomer) -> list[str]:
    """Whose a typed number already is, and their open deals: titles only of those the user may see."""
    tr = ctx.tr
    lines = [
        "☎️ " + tr("This number is already {name}'s: the new deal joins that customer.", name=customer.name)
    ]
    if customer.open_count:
        named = [f"«{h(short(d.title or '', 40))}»" for d in customer.seen]
        if customer.unseen:
            named.append(tr.ngettext("{n} of another seller", "{n} of other sellers", customer.unseen))
        lines.append(
            "📂 "
            + tr.ngettext(
                "Their open deal: {deals}",
                "Their open deals: {deals}",
                customer.open_count,
                deals=Html(", ".join(named)),
            )
        )
    return lines


async def summary(ctx: ChatContext, deal: NewDealDraft, draft: int) -> View:
    tr = ctx.tr
    currency = ctx.crm.config.default_currency
    amount = tr.money(parse_amount(deal.amount), currency) if deal.amount else "—"
    customer = await ctx.crm.deals.customer_of(phone=deal.phone, actor=ctx.user) if deal.phone else None
    pipeline = await funnel(ctx, deal.pipeline_id) if deal.pipeline_id is not None else None
    lines = [
        "➕ <b>" + tr("New deal") + "</b>",
        *([funnel_line(pipeline)] if pipeline is not None else []),
        f"📌 {h(deal.title or '')}",
        f"👤 {h(deal.contact or '—')} · {pretty_phone(deal.phone) or '—'}",
        *(customer_lines(ctx, customer) if customer is not None else []),
        f"💰 {amount}",
        "",
        tr("Create it?"),
    ]
    return View.of(
        lines,
        [
            [
                Button.act("✅ " + tr("Create"), A.NewCreate(draft)),
                Button.act("✖️ " + tr("Cancel"), A.NewCancel(draft)),
            ]
        ],
    )


async def _view(ctx: ChatContext, dialog: Dialog) -> View:
    """The question the dialog is at, or the summary, with buttons for this very draft."""
    if dialog.step == "confirm":
        return await summary(ctx, dialog.state(NewDealDraft), dialog.draft)
    if dialog.step == "pipeline":
        return await funnel_question(ctx, dialog.draft)
    return question(ctx, dialog.step, dialog.draft)


async def _go(ctx: ChatContext, deal: NewDealDraft, step: str) -> Reply:
    dialog = await ctx.crm.dialogs.put(ctx.user.telegram_id, deal, step=step)
    return Reply().send(await _view(ctx, dialog))


def again(ctx: ChatContext, error: CrmError, view: View) -> View:
    """What was wrong above the same question, in one message (two per answer would hit the flood limit)."""
    return replace(view, html=fit(["⚠️ " + explain(error, ctx.tr), "", view.html]))


def _next(step: str) -> str:
    return STEPS[STEPS.index(step) + 1]


@router.command("new")
async def on_new(ctx: ChatContext, args: str) -> Reply:
    """Start a new deal (or `/new Title` to skip the first question); with several funnels, which one
    is asked first."""
    start = "pipeline" if await several(ctx) else "title"
    if args.strip():
        try:
            title = valid_title(args)
        except InvalidInput as error:
            dialog = await ctx.crm.dialogs.put(ctx.user.telegram_id, NewDealDraft(), step=start)
            return Reply().send(again(ctx, error, await _view(ctx, dialog)))
        return await _go(ctx, NewDealDraft(title=title), "contact" if start == "title" else start)
    return await _go(ctx, NewDealDraft(), start)


@router.button(A.NewFunnel)
async def on_funnel(ctx: ChatContext, p: A.NewFunnel) -> Reply:
    """Take the funnel the new deal opens in, then ask what is not known yet."""
    dialog = await ctx.crm.dialogs.confirmed(
        ctx.user.telegram_id, flow=FLOW, draft=p.draft, step="pipeline", what="question"
    )
    pipeline = await funnel(ctx, p.pipeline_id)
    await remember(ctx, pipeline.id)
    deal = replace(dialog.state(NewDealDraft), pipeline_id=pipeline.id)
    step = "contact" if deal.title else "title"
    new = await ctx.crm.dialogs.put(ctx.user.telegram_id, deal, step=step)
    return Reply().edit(ctx.message_id, await _view(ctx, new))


def _accept(
    ctx: ChatContext, step: str, deal: NewDealDraft, event: Text | SharedContact
) -> tuple[NewDealDraft, str]:
    """Check the answer for ``step``; the draft with it, and the step that comes next."""
    if isinstance(event, SharedContact):
        if step not in ("contact", "phone"):
            raise InvalidInput(step, event.phone, Why.TEXT_EXPECTED)
        deal = replace(deal, phone=to_e164(event.phone, region=ctx.crm.config.default_region))
        if step == "contact" and event.first_name:
            deal = replace(deal, contact=valid_name(event.first_name))
        return deal, "amount"
    text = event.text
    if step == "title":
        deal = replace(deal, title=valid_title(text))
    elif step == "contact":
        deal = replace(deal, contact=valid_name(text))
    elif step == "phone":
        deal = replace(deal, phone=to_e164(text, region=ctx.crm.config.default_region))
    elif step == "amount":
        deal = replace(deal, amount=str(parse_amount(text)))
    else:
        raise InvalidInput("answer", text, Why.USE_BUTTONS)
    return deal, _next(step)


@router.flow(FLOW)
async def on_answer(ctx: ChatContext, dialog: Dialog, event: Text | SharedContact) -> Reply:
    """Take the answer to the current question; a bad one is explained and the question asked again."""
    try:
        deal, step = _accept(ctx, dialog.step, dialog.state(NewDealDraft), event)
    except CrmError as error:
        return Reply().send(again(ctx, error, await _view(ctx, dialog)))
    return await _go(ctx, deal, step)


@router.button(A.NewSkip)
async def on_skip(ctx: ChatContext, p: A.NewSkip) -> Reply:
    """Skip an optional question — the one this button came with, not a later one."""
    dialog = await ctx.crm.dialogs.confirmed(ctx.user.telegram_id, flow=FLOW, draft=p.draft, what="question")
    if dialog.step in ("pipeline", "title", "confirm"):
        return Reply().answer(ctx.tr("Nothing to skip here."))
    return await _go(ctx, dialog.state(NewDealDraft), _next(dialog.step))


@router.button(A.NewCancel)
async def on_cancel(ctx: ChatContext, p: A.NewCancel) -> Reply:
    """Drop the draft this button came with (a newer one is left alone)."""
    await ctx.crm.dialogs.confirmed(ctx.user.telegram_id, flow=FLOW, draft=p.draft, what="question")
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    return Reply().edit(ctx.message_id, View.of(["✖️ " + ctx.tr("The new deal was dropped.")]))


@router.button(A.NewCreate)
async def on_create(ctx: ChatContext, p: A.NewCreate) -> Reply:
    """Create the deal this summary shows — never a later draft — and turn the summary into its card."""
    dialog = await ctx.crm.dialogs.confirmed(ctx.user.telegram_id, flow=FLOW, draft=p.draft, step="confirm")
    draft = dialog.state(NewDealDraft)
    deal = await ctx.crm.deals.create(
        actor=ctx.user,
        title=draft.title or "",
        contact_name=draft.contact,
        phone=draft.phone,
        amount=draft.amount,
        pipeline=draft.pipeline_id,
    )
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    return (await show_card(ctx, deal.id, notice="✨ " + ctx.tr("Deal created."))).answer(
        ctx.tr("Deal created.")
    )
