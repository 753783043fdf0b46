""" "📞 Call" on a deal's card and on a call-back: the seller's phone rings first, then the customer's."""

from __future__ import annotations

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.features.card import details
from bot.core.features.deal_view import deal_card
from bot.core.i18n import Tr
from bot.core.routing import Router
from bot.core.views import Reply
from crm_core.domain.dialing import CallRefused, Refusal
from crm_core.domain.phones import pretty as pretty_phone

router = Router("dialing")


def N_(message: str) -> str:
    return message


REFUSALS = {
    Refusal.NO_PBX: N_("No phone system that places calls is set up."),
    Refusal.NO_EXTENSION: N_("You have no phone extension yet — ask your boss to set one in /team."),
    Refusal.NO_NUMBER: N_("The customer has no phone number — add one with ✏️ Edit."),
    Refusal.BLOCKED_NUMBER: N_("This number is on the blocked list: Kanbot does not call it."),
    Refusal.PBX_UNREACHABLE: N_("The phone system could not be reached. Try again in a minute."),
    Refusal.PBX_REFUSED: N_("The phone system refused the call."),
    Refusal.EXPIRED: N_("The phone system did not take the call in time. Try again."),
}


def refusal_text(tr: Tr, reason: Refusal | str, number: str | None = None) -> str:
    """Why a call was not placed, in the reader's words."""
    head = tr("Cannot call {phone}.", phone=pretty_phone(number)) if number else tr("Cannot call.")
    return f"📵 {head} {tr(REFUSALS.get(Refusal(reason), REFUSALS[Refusal.PBX_REFUSED]))}"


@router.button(A.Dial)
async def on_dial(ctx: ChatContext, p: A.Dial) -> Reply:
    """Ring the seller's phone, then dial the deal's customer; a refusal is said on the card at once."""
    deal_id, task_id = p.deal_id, p.task_id or None
    found = await details(ctx, deal_id)
    phone = found.deal.contact.phone if found.deal.contact else None
    try:
        request = await ctx.crm.dialing.request(deal_id=deal_id, actor=ctx.user, task_id=task_id)
    except CallRefused as refused:
        blocked = refused.detail if refused.reason is Refusal.BLOCKED_NUMBER else None
        notice = refusal_text(ctx.tr, refused.reason, blocked or phone)  # the number the CRM would dial
        return Reply().edit(ctx.message_id, deal_card(found, ctx, notice=notice))
    notice = "📞 " + ctx.tr(
        "Calling {phone}: your phone ({extension}) rings first — pick it up.",
        phone=pretty_phone(request.number),
        extension=request.extension,
    )
    return Reply().edit(ctx.message_id, deal_card(found, ctx, notice=notice))


__all__ = ["REFUSALS", "refusal_text", "router"]
