"""Editing a deal from its card: a field's new value typed (a shared contact: for all its deals or
this one), the priority picked."""

from __future__ import annotations

from dataclasses import replace

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.dialogs import EditQuestion
from bot.core.errors import explain
from bot.core.events import SharedContact, Text
from bot.core.features.card import (
    EDIT_FIELDS,
    answered,
    ask,
    ask_again,
    back_to_card,
    details,
    show_card,
    typed,
)
from bot.core.features.deal_fields import ask_field, definition_of, on_typed_value
from bot.core.field_words import field_name
from bot.core.i18n import h
from bot.core.routing import Router
from bot.core.views import Button, Reply, View
from bot.core.widths import pack
from crm_core.domain.contacts import ContactScope, ContactShared
from crm_core.domain.conversations import Dialog
from crm_core.domain.deals import Priority
from crm_core.domain.errors import CrmError, InvalidInput, StaleVersion
from crm_core.domain.phones import pretty as pretty_phone

router = Router("card_edit")


@router.button(A.EditMenu)
async def on_edit_menu(ctx: ChatContext, p: A.EditMenu) -> Reply:
    """Offer the fields that can be edited."""
    found = await details(ctx, p.deal_id, p.version)
    d, v, tr = found.deal.id, found.deal.version, ctx.tr
    found_defs = await ctx.crm.fields.definitions()
    buttons = [Button.act(tr(label), A.Edit(d, v, key)) for key, label in EDIT_FIELDS.items()]
    own = [(field_name(f, tr), Button.act(field_name(f, tr), A.Edit(d, v, f.key))) for f in found_defs]
    rows = [
        buttons[0:2],
        buttons[2:4],
        [buttons[4], Button.act(tr("Priority"), A.Edit(d, v, "priority"))],
        *pack(own),
        back_to_card(ctx, d),
    ]
    return Reply().edit(
        ctx.message_id, View.of([f"<b>{h(found.deal.title)}</b>", tr("What to change?")], rows)
    )


@router.button(A.Edit)
async def on_edit(ctx: ChatContext, p: A.Edit) -> Reply:
    """Ask for the new value of a field (priority has buttons)."""
    found = await details(ctx, p.deal_id, p.version)
    field, tr, deal = p.field, ctx.tr, found.deal
    if field == "priority":
        rows = [
            [
                Button.act(
                    ("• " if deal.priority is level else "") + tr(level.value),
                    A.SetPriority(deal.id, deal.version, level.value),
                )
                for level in Priority
            ],
            back_to_card(ctx, deal.id),
        ]
        return Reply().edit(ctx.message_id, View.of([f"<b>{h(deal.title)}</b>", tr("Priority:")], rows))
    if field not in EDIT_FIELDS:
        return await ask_field(ctx, found, await definition_of(ctx, field))
    current = {
        "title": deal.title,
        "amount": tr.money(deal.amount, deal.currency) if deal.amount else "",
        "contact": deal.contact.name if deal.contact else "",
        "company": deal.contact.company if deal.contact else "",
        "phone": pretty_phone(deal.contact.phone if deal.contact else None),
    }[field] or "—"
    question = tr("New {field}? Now: {value}", field=tr(EDIT_FIELDS[field]).lower(), value=current)
    return await ask(ctx, EditQuestion(deal_id=deal.id, version=deal.version, field=field), question)


@router.button(A.SetPriority)
async def on_priority(ctx: ChatContext, p: A.SetPriority) -> Reply:
    """Set the deal's priority."""
    try:
        level = Priority(p.level)
    except ValueError:
        raise InvalidInput("priority", p.level) from None
    found = await details(ctx, p.deal_id, p.version)
    if found.deal.priority is not level:
        await ctx.crm.deals.set_priority(
            deal_id=p.deal_id, priority=level, actor=ctx.user, expected_version=p.version
        )
    return await show_card(ctx, p.deal_id)


@router.flow(EditQuestion.FLOW)
async def on_edit_text(ctx: ChatContext, dialog: Dialog, event: Text | SharedContact) -> Reply:
    """Save the new value, or explain what is wrong and ask again; a contact other deals share asks
    first whether the change is for all of them or for this deal alone."""
    asked, value = dialog.state(EditQuestion), typed(event)
    field = asked.field
    if field not in EDIT_FIELDS:
        return await on_typed_value(ctx, dialog, value)
    try:
        await ctx.crm.deals.edit(
            deal_id=asked.deal_id, field=field, value=value, actor=ctx.user, expected_version=asked.version
        )
    except StaleVersion:
        raise
    except ContactShared as shared:
        return await ask_contact_scope(ctx, dialog, value, shared)
    except CrmError as error:
        return ask_again(ctx, dialog, ["⚠️ " + explain(error, ctx.tr), ctx.tr("Try again, or send /cancel.")])
    return await answered(ctx, dialog, "✏️ " + ctx.tr("Saved."))


async def ask_contact_scope(ctx: ChatContext, dialog: Dialog, value: str, shared: ContactShared) -> Reply:
    """Ask whether a shared contact changes for all its deals or this deal gets its own."""
    state = replace(dialog.state(EditQuestion), value=value)
    asked = await ctx.crm.dialogs.put(ctx.user.telegram_id, state, step="scope")
    tr, n = ctx.tr, shared.deal_count
    lines = [
        "👥 "
        + tr.ngettext(
            "{name} is the contact of {n} deal.", "{name} is the contact of {n} deals.", n, name=shared.name
        ),
        tr("Change it for all of them, or give this deal its own contact?"),
    ]
    buttons = [
        [
            Button.act(
                "👥 " + tr.label_n("For all {n} deals", "For all {n} deals", n),
                A.ContactScopeChoice("all", asked.draft),
            )
        ],
        [
            Button.act(
                "👤 " + tr.label("Only this deal: its own contact"), A.ContactScopeChoice("this", asked.draft)
            )
        ],
    ]
    return ask_again(ctx, dialog, lines, buttons)


@router.button(A.ContactScopeChoice)
async def on_contact_scope(ctx: ChatContext, p: A.ContactScopeChoice) -> Reply:
    """Save the typed change for all the contact's deals, or give this deal a contact of its own."""
    try:
        scope = ContactScope(p.scope)
    except ValueError:
        raise InvalidInput("answer", p.scope) from None
    dialog = await ctx.crm.dialogs.confirmed(
        ctx.user.telegram_id, flow=EditQuestion.FLOW, draft=p.draft, step="scope", what="question"
    )
    asked = dialog.state(EditQuestion)
    await ctx.crm.deals.edit(
        deal_id=asked.deal_id,
        field=asked.field,
        value=str(asked.value),
        actor=ctx.user,
        expected_version=asked.version,
        contact_scope=scope,
    )
    if scope is ContactScope.ALL:
        notice = ctx.tr("Saved for every deal of this contact.")
    else:
        notice = ctx.tr("Saved: this deal has its own contact now.")
    return await answered(ctx, dialog, "✏️ " + notice)
