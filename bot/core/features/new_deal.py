"""/new: a deal in four short questions — title, contact, phone, amount — then a summary to confirm."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.errors import explain
from bot.core.events import SharedContact, Text
from bot.core.features.card import show_card
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
FLOW = "new_deal"
STEPS = ("title", "contact", "phone", "amount", "confirm")


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


async def summary(ctx: ChatContext, data: dict[str, Any], draft: int) -> View:
    tr = ctx.tr
    currency = ctx.crm.config.default_currency
    amount = tr.money(parse_amount(data["amount"]), currency) if data.get("amount") else "—"
    customer = (
        await ctx.crm.deals.customer_of(phone=data["phone"], actor=ctx.user) if data.get("phone") else None
    )
    lines = [
        "➕ <b>" + tr("New deal") + "</b>",
        f"📌 {h(data['title'])}",
        f"👤 {h(data.get('contact') or '—')} · {pretty_phone(data.get('phone')) or '—'}",
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
        return await summary(ctx, dialog.data, dialog.draft)
    return question(ctx, dialog.step, dialog.draft)


async def _go(ctx: ChatContext, data: dict[str, Any], step: str) -> Reply:
    dialog = await ctx.crm.dialogs.put(ctx.user.telegram_id, flow=FLOW, step=step, data=data)
    return Reply().send(await _view(ctx, dialog))


def again(ctx: ChatContext, error: CrmError, view: View) -> View:
    """What was wrong above the same question, in one message (two per answer would hit the flood limit)."""
    return replace(view, html=fit(["⚠️ " + explain(error, ctx.tr), "", view.html]))


def _next(step: str) -> str:
    return STEPS[STEPS.index(step) + 1]


@router.command("new")
async def on_new(ctx: ChatContext, args: str) -> Reply:
    """Start a new deal (or `/new Title` to skip the first question)."""
    if args.strip():
        try:
            title = valid_title(args)
        except InvalidInput as error:
            dialog = await ctx.crm.dialogs.put(ctx.user.telegram_id, flow=FLOW, step="title", data={})
            return Reply().send(again(ctx, error, question(ctx, "title", dialog.draft)))
        return await _go(ctx, {"title": title}, "contact")
    return await _go(ctx, {}, "title")


def _accept(ctx: ChatContext, step: str, data: dict[str, Any], event: Text | SharedContact) -> str:
    """Check the answer for ``step``, store it in ``data``, and return the step that comes next."""
    if isinstance(event, SharedContact):
        if step not in ("contact", "phone"):
            raise InvalidInput(step, event.phone, Why.TEXT_EXPECTED)
        data["phone"] = to_e164(event.phone, region=ctx.crm.config.default_region)
        if step == "contact" and event.first_name:
            data["contact"] = valid_name(event.first_name)
        return "amount"
    text = event.text
    if step == "title":
        data["title"] = valid_title(text)
    elif step == "contact":
        data["contact"] = valid_name(text)
    elif step == "phone":
        data["phone"] = to_e164(text, region=ctx.crm.config.default_region)
    elif step == "amount":
        data["amount"] = str(parse_amount(text))
    else:
        raise InvalidInput("answer", text, Why.USE_BUTTONS)
    return _next(step)


@router.flow(FLOW)
async def on_answer(ctx: ChatContext, dialog: Dialog, event: Text | SharedContact) -> Reply:
    """Take the answer to the current question; a bad one is explained and the question asked again."""
    data = dict(dialog.data)
    try:
        step = _accept(ctx, dialog.step, data, event)
    except CrmError as error:
        return Reply().send(again(ctx, error, await _view(ctx, dialog)))
    return await _go(ctx, data, step)


@router.button(A.NewSkip)
async def on_skip(ctx: ChatContext, p: A.NewSkip) -> Reply:
    """Skip an optional question — the one this button came with, not a later one."""
    dialog = await ctx.crm.dialogs.confirmed(ctx.user.telegram_id, flow=FLOW, draft=p.draft, what="question")
    if dialog.step in ("title", "confirm"):
        return Reply().answer(ctx.tr("Nothing to skip here."))
    return await _go(ctx, dict(dialog.data), _next(dialog.step))


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
    data = dialog.data
    deal = await ctx.crm.deals.create(
        actor=ctx.user,
        title=data["title"],
        contact_name=data.get("contact"),
        phone=data.get("phone"),
        amount=data.get("amount"),
    )
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    return (await show_card(ctx, deal.id, notice="✨ " + ctx.tr("Deal created."))).answer(
        ctx.tr("Deal created.")
    )
