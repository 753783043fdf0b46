"""Escalations to the boss of deals still stale after a reminder, and the boss's nudge to the seller."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.features.card import (
    details,
)
from bot.core.features.deal_view import beside
from bot.core.features.followups import reminder_card
from bot.core.i18n import h
from bot.core.renderers import Outgoing, renders
from bot.core.routing import Router
from bot.core.views import Button, Reply, View
from bot.core.widths import room, shorten, text_px
from crm_core.domain.errors import NotFound
from crm_core.domain.notifications import NoteKind

router = Router("escalation")


@renders(NoteKind.ESCALATION)
async def escalation(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    tr = ctx.tr
    lines = ["🚨 " + tr("Still stale after a reminder:")]
    buttons = []
    for item in p.get("items", []):
        try:
            deal = (await details(ctx, int(item["deal_id"]))).deal
        except NotFound:
            continue
        since = datetime.fromisoformat(item["stale_since"])
        if not deal.is_stale(ctx.now) or deal.follow_up_due_at != since:
            continue  # handled (or snoozed) before the boss's working hour came: nothing to escalate
        owner = deal.owner.name if deal.owner else tr("nobody")
        lines.append(
            f"• <b>{h(deal.title)}</b> — {h(owner)}, " + tr("stale for {time}", time=tr.days(ctx.now - since))
        )
        nudge = tr.label(
            "Nudge {name}", name=shorten(owner, room(1) - text_px("📣 " + tr.label("Nudge {name}", name="")))
        )
        buttons += beside(
            "👥 ",
            deal.title,
            Button.act("👥", A.ReassignMenu(deal.id, deal.version)),
            Button.act("📣 " + nudge, A.Nudge(deal.id)),
        )
    if len(lines) == 1:
        return []
    return [View.of(lines, buttons)]


@router.button(A.Nudge)
async def on_nudge(ctx: ChatContext, p: A.Nudge) -> Reply:
    """A boss asks the seller to follow up on the deal."""
    deal = await ctx.crm.followups.nudge(deal_id=p.deal_id, actor=ctx.user)
    who = deal.owner.name if deal.owner else ctx.tr("nobody")
    return Reply().answer("📣 " + ctx.tr("{name} has been nudged.", name=who))


@renders(NoteKind.NUDGE)
async def nudge(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    try:
        found = await details(ctx, int(p["deal_id"]))
    except NotFound:
        return []
    return [
        reminder_card(
            ctx,
            found,
            "📣 " + ctx.tr("{name} asks you to follow up on this deal:", name=p.get("by_name", "")),
        )
    ]
