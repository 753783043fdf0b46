"""The chat's echo of a move made on the board: the deal's card with "Moved to X on the board"."""

from __future__ import annotations

from typing import Any

from bot.core.context import ChatContext
from bot.core.features.card import details
from bot.core.features.cards import STAGE_ICON
from bot.core.features.deal_view import deal_card
from bot.core.notify import RENDERERS, Outgoing
from crm_core.domain.errors import NotFound
from crm_core.domain.funnel import StageKind
from crm_core.domain.notifications import NoteKind


async def moved_on_board(ctx: ChatContext, p: dict[str, Any]) -> list[Outgoing]:
    """The deal's card as it is now, under a line saying where the board put it."""
    tr = ctx.tr
    try:
        found = await details(ctx, int(p["deal_id"]))
    except NotFound:  # gone, or no longer the recipient's to see
        return []
    stage = next((s for s in found.pipeline.stages if s.id == p.get("stage_id")), None)
    name = tr(stage.name if stage else str(p.get("stage_name") or "?"))
    icon = STAGE_ICON[stage.kind] if stage else "🗂"
    if stage is not None and stage.kind is StageKind.WON:
        notice = "🏆 " + tr("Won on the board! Well done.")
    else:
        notice = f"{icon} " + tr("Moved to {stage} on the board.", stage=name)
    return [deal_card(found, ctx, notice=notice)]


RENDERERS[NoteKind.DEAL_MOVED_ON_BOARD] = moved_on_board
