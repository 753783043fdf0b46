"""A deal moved from its card to another funnel: "Another funnel…", then the funnel, then its stage."""

from __future__ import annotations

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.features.card import back_to_card, details, show_moved
from bot.core.features.cards import STAGE_ICON, stage_label
from bot.core.features.funnel_picks import (
    funnel,
    funnel_line,
    funnel_rows,
    funnels,
    last_used_first,
    remember,
)
from bot.core.i18n import h
from bot.core.routing import Router
from bot.core.views import Button, Reply, View
from crm_core.domain.errors import NotFound

router = Router("funnels")


# -- the card: to another funnel -------------------------------------------------------------------


@router.button(A.FunnelMenu)
async def on_funnel_menu(ctx: ChatContext, p: A.FunnelMenu) -> Reply:
    """Offer the other funnels the deal may go to."""
    found = await details(ctx, p.deal_id, p.version)
    deal = found.deal
    others = [f for f in await last_used_first(ctx) if f.id != deal.pipeline_id]
    rows = funnel_rows(
        others, lambda pipeline_id: A.FunnelStages(deal.id, deal.version, pipeline_id), one=True
    )
    lines = [f"<b>{h(deal.title)}</b>", ctx.tr("Move to which funnel?")]
    return Reply().edit(ctx.message_id, View.of(lines, [*rows, back_to_card(ctx, deal.id)]))


@router.button(A.FunnelStages)
async def on_funnel_stages(ctx: ChatContext, p: A.FunnelStages) -> Reply:
    """Offer the open stages of the funnel chosen."""
    found = await details(ctx, p.deal_id, p.version)
    deal, target = found.deal, await funnel(ctx, p.pipeline_id)
    buttons = [
        Button.act(
            f"{STAGE_ICON[s.kind]} {stage_label(s, ctx.tr)}", A.FunnelMove(deal.id, deal.version, s.id)
        )
        for s in target.stages
        if s.is_open
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    back = [Button.act("⬅ " + ctx.tr.label("Another funnel…"), A.FunnelMenu(deal.id, deal.version))]
    lines = [f"<b>{h(deal.title)}</b>", funnel_line(target), ctx.tr("Move to which stage?")]
    return Reply().edit(ctx.message_id, View.of(lines, [*rows, back, back_to_card(ctx, deal.id)]))


@router.button(A.FunnelMove)
async def on_funnel_move(ctx: ChatContext, p: A.FunnelMove) -> Reply:
    """Move the deal to the chosen stage of another funnel and redraw its card."""
    stage = next((s for f in await funnels(ctx) for s in f.stages if s.id == p.stage_id), None)
    if stage is None:
        raise NotFound("stage", p.stage_id)
    deal = await ctx.crm.deals.change_pipeline(
        actor=ctx.user,
        deal_id=p.deal_id,
        pipeline=stage.pipeline_id,
        stage=stage.id,
        expected_version=p.version,
    )
    await remember(ctx, stage.pipeline_id)
    return await show_moved(ctx, deal)
