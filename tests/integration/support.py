"""What the integration tests share besides fixtures: the team, and reading a deal's stored state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crm_core.domain.users import Role, User
from crm_core.services import Crm


@dataclass(frozen=True)
class Team:
    boss: User
    alice: User  # seller, extension 101
    bob: User  # seller, extension 102
    carol: User  # seller without an extension


async def stored(crm: Crm, deal_id: int) -> dict[str, Any]:
    """Everything stored about a deal: its row, its history, its open tasks and the outbox size.

    Compared before and after a refused request, it shows the request changed nothing.
    """
    async with crm.db.uow(write=False) as uow:
        deal = await uow.deals.get(deal_id)
        history = await uow.events.history(deal_id)
        tasks = await uow.tasks.open_of_deal(deal_id)
        outbox = await uow.outbox.pending(limit=1000)
    assert deal is not None
    return {
        "deal": deal,
        "history": [(e.kind, e.data) for e in history],
        "tasks": tasks,
        "outbox": len(outbox),
    }


async def deal_count(crm: Crm) -> int:
    async with crm.db.uow(write=False) as uow:
        return len(await uow.deals.list_all(viewer=BOSS_VIEW))


async def outbox(crm: Crm) -> list[dict[str, Any]]:
    """The pending notifications, oldest first."""
    async with crm.db.uow(write=False) as uow:
        return await uow.outbox.pending(limit=1000)


BOSS_VIEW = User(id=0, telegram_id=0, name="any boss", role=Role.BOSS)  # sees every deal
