"""What the chat hears of a move made elsewhere (the board's Mini App): a note in the outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crm_core.domain.deals import Deal
from crm_core.domain.notifications import DealMovedOnBoard, Notification
from crm_core.domain.users import User

if TYPE_CHECKING:
    from crm_core.services.context import Crm


async def tell_moved_on_board(crm: Crm, *, deal: Deal, actor: User) -> None:
    """Queue a note to the actor that ``deal`` (as just moved) went to its stage on the board.

    Its own transaction, after the move's: the move stands even if queueing fails, and a note
    queued twice for the same move (same deal version) is kept once.
    """
    note = Notification(
        actor.id,
        DealMovedOnBoard(deal_id=deal.id, stage_id=deal.stage.id, stage_name=deal.stage.name),
        dedup_key=f"board-move:{deal.id}:{deal.version}",
    )
    async with crm.db.uow() as uow:
        await uow.outbox.put(note, at=crm.clock.now())
        await uow.commit()
