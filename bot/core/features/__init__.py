"""The chat's features, one router each."""

from __future__ import annotations

from bot.core.features import (
    calls,
    card,
    card_edit,
    deal_fields,
    dialing,
    digest,
    escalation,
    followups,
    funnels,
    lists,
    menu,
    morning,
    new_deal,
    remind,
    reports,
    settings,
    targets,
    tasks,
    team,
    zones,
)
from bot.core.routing import Router


def routers() -> list[Router]:
    """Every feature's router, in the order the chat consults them."""
    return [
        menu.router,
        lists.router,
        card.router,
        card_edit.router,
        funnels.router,
        deal_fields.router,
        remind.router,
        new_deal.router,
        tasks.router,
        reports.router,
        team.router,
        targets.router,
        settings.router,
        zones.router,
        followups.router,
        escalation.router,
        digest.router,
        morning.router,
        calls.router,
        dialing.router,
    ]


__all__ = ["menu", "routers"]
