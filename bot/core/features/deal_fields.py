"""The team's own fields from the card: a value picked by buttons or typed, and a move that waited for
the fields its stage requires, made once they are filled."""

from __future__ import annotations

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.dialogs import EditQuestion, RequiredQuestion
from bot.core.errors import refusal_reason
from bot.core.events import SharedContact, Text
from bot.core.features.card import (
    answered,
    ask_again,
    ask_required,
    asked_in,
    details,
    moved_notice,
    question_view,
    show_card,
    typed,
)
from bot.core.features.deal_view import deal_card
from bot.core.features.field_questions import asks_by_buttons, field_question, picked
from bot.core.field_words import field_name
from bot.core.routing import Router
from bot.core.views import Reply
from crm_core.domain.conversations import Dialog
from crm_core.domain.errors import InvalidInput, StaleVersion, Why
from crm_core.domain.fields import FieldDef, FieldsRequired
from crm_core.services.deals import DealDetails

router = Router("deal_fields")


async def definition_of(ctx: ChatContext, key: str) -> FieldDef:
    for definition in await ctx.crm.fields.definitions():
        if definition.key == key:
            return definition
    raise InvalidInput("field", key)


def current_of(found: DealDetails, key: str) -> tuple[str, ...]:
    return {d.key: v for d, v in found.fields}.get(key, ())


async def ask_field(ctx: ChatContext, found: DealDetails, definition: FieldDef) -> Reply:
    """Ask for a field's new value from the card's Edit: buttons, or a question the next message answers."""
    lines, buttons = field_question(ctx.tr, found.deal, definition, current_of(found, definition.key))
    deal = found.deal
    if asks_by_buttons(definition):
        await ctx.crm.dialogs.drop(ctx.user.telegram_id)  # a move waiting for fields waits no more
    else:
        state = EditQuestion(
            deal_id=deal.id, version=deal.version, field=definition.key, message_id=ctx.message_id
        )
        await ctx.crm.dialogs.put(ctx.user.telegram_id, state, step="answer")
    return Reply().edit(ctx.message_id, question_view(ctx, deal.id, lines, buttons))


def wrong_value(ctx: ChatContext, definition: FieldDef, error: InvalidInput) -> str:
    """Why a typed value will not do, naming the field in the user's words."""
    reason = refusal_reason(error, ctx.tr)
    name = field_name(definition, ctx.tr)
    if reason:
        return "⚠️ " + ctx.tr("That {field} doesn't work: {reason}.", field=name, reason=reason)
    return "⚠️ " + ctx.tr("That {field} doesn't work.", field=name)


async def waiting_move(ctx: ChatContext, deal_id: int) -> Dialog | None:
    """The user's move of this deal that waits for its fields, if there is one."""
    dialog = await ctx.crm.dialogs.get(ctx.user.telegram_id)
    if dialog is None or dialog.flow != RequiredQuestion.FLOW:
        return None
    return dialog if dialog.state(RequiredQuestion).deal_id == deal_id else None


async def move_on(ctx: ChatContext, dialog: Dialog) -> Reply:
    """Try the waiting move again: ask for the next missing field, or make it and show the card."""
    asked, where = dialog.state(RequiredQuestion), asked_in(dialog)
    try:
        deal = await ctx.crm.deals.move(deal_id=asked.deal_id, to_stage=asked.stage_id, actor=ctx.user)
    except FieldsRequired as missing:
        return await ask_required(ctx, missing, message_id=where)
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    view = deal_card(await details(ctx, deal.id, changed=deal), ctx, notice=moved_notice(ctx, deal))
    return Reply().edit(where, view)


@router.button(A.SetField)
async def on_set_field(ctx: ChatContext, p: A.SetField) -> Reply:
    """Save the value a button stands for (a choice, yes or no, the ticked choices, or none)."""
    definition = await definition_of(ctx, p.key)
    found = await details(ctx, p.deal_id, p.version)
    value = picked(definition, p.pick)
    stored = definition.parse(value, region=ctx.crm.config.default_region) if value else ()
    if stored != current_of(found, definition.key):
        await ctx.crm.deals.set_field(
            deal_id=p.deal_id, key=definition.key, value=value, actor=ctx.user, expected_version=p.version
        )
    waiting = await waiting_move(ctx, p.deal_id)
    if waiting is not None:
        return await move_on(ctx, waiting)
    return await show_card(ctx, p.deal_id, notice="✏️ " + ctx.tr("Saved."))


@router.button(A.ToggleField)
async def on_toggle_field(ctx: ChatContext, p: A.ToggleField) -> Reply:
    """Tick or untick a choice of a multi-choice field (saved with Done)."""
    definition = await definition_of(ctx, p.key)
    found = await details(ctx, p.deal_id, p.version)
    waiting = await waiting_move(ctx, p.deal_id)
    stage = found.pipeline.stage(waiting.state(RequiredQuestion).stage_id) if waiting else None
    current = current_of(found, definition.key)
    lines, buttons = field_question(ctx.tr, found.deal, definition, current, stage=stage, mask=p.mask)
    return Reply().edit(ctx.message_id, question_view(ctx, found.deal.id, lines, buttons))


async def on_typed_value(ctx: ChatContext, dialog: Dialog, value: str) -> Reply:
    """Save a typed value of one of the team's fields (the card's Edit), or say why not and ask again."""
    asked = dialog.state(EditQuestion)
    definition = await definition_of(ctx, asked.field)
    try:
        await ctx.crm.deals.set_field(
            deal_id=asked.deal_id,
            key=definition.key,
            value=value,
            actor=ctx.user,
            expected_version=asked.version,
        )
    except InvalidInput as error:
        if error.reason is Why.UNCHANGED:
            return await answered(ctx, dialog, "✏️ " + ctx.tr("Saved."))
        found = await details(ctx, asked.deal_id)
        lines, buttons = field_question(ctx.tr, found.deal, definition, current_of(found, definition.key))
        return ask_again(ctx, dialog, [wrong_value(ctx, definition, error), *lines[1:]], buttons)
    return await answered(ctx, dialog, "✏️ " + ctx.tr("Saved."))


@router.flow(RequiredQuestion.FLOW)
async def on_required_text(ctx: ChatContext, dialog: Dialog, event: Text | SharedContact) -> Reply:
    """Save the typed value a waiting move needs, then try the move again; a wrong value: why, and again."""
    asked = dialog.state(RequiredQuestion)
    definition = await definition_of(ctx, asked.key)
    found = await details(ctx, asked.deal_id)
    if asks_by_buttons(definition):
        lines, buttons = field_question(
            ctx.tr, found.deal, definition, (), stage=found.pipeline.stage(asked.stage_id)
        )
        return ask_again(ctx, dialog, ["⚠️ " + ctx.tr("Please use the buttons above."), *lines[1:]], buttons)
    try:
        await ctx.crm.deals.set_field(
            deal_id=asked.deal_id, key=definition.key, value=typed(event), actor=ctx.user
        )
    except StaleVersion:
        raise
    except InvalidInput as error:
        stage = found.pipeline.stage(asked.stage_id)
        lines, buttons = field_question(ctx.tr, found.deal, definition, (), stage=stage)
        return ask_again(ctx, dialog, [wrong_value(ctx, definition, error), *lines[1:]], buttons)
    return await move_on(ctx, dialog)
