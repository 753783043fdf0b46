"""The REST API (``/api/v1/...``): deals, tasks and the team over HTTP for other systems, behind
personal API tokens."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from crm_core.services import Crm
from kanbot.api.resources import resource_routes
from kanbot.api.routes import Limiter
from kanbot.api.routes import rest_routes as deal_routes

__all__ = ["rest_routes"]


def rest_routes(crm: Crm, *, rate_limit: int = 120, rate_window_seconds: int = 60) -> list[web.RouteDef]:
    """Every REST route, sharing one per-token rate limit."""
    limiter = Limiter(rate_limit, timedelta(seconds=rate_window_seconds), crm.clock.now)
    return [*deal_routes(crm, limiter=limiter), *resource_routes(crm, limiter=limiter)]
