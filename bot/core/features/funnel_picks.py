"""Which funnel a screen is in when there are several: the funnels in the order offered (the last used
first), their buttons and the line naming one. With one funnel none of this is ever shown."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.core.codec import Action
from bot.core.context import ChatContext
from bot.core.i18n import h, isolate
from bot.core.views import Button
from bot.core.widths import pack
from crm_core.domain.errors import NotFound
from crm_core.domain.funnel import Pipeline

ICON = "🧭"


async def funnels(ctx: ChatContext) -> list[Pipeline]:
    """Every funnel, the default first (the core's order); kept for the rest of the update."""
    known = ctx.extra.get("pipelines")
    if known is None:
        known = ctx.extra["pipelines"] = list(await ctx.crm.pipelines.list())
    return list(known)


async def several(ctx: ChatContext) -> bool:
    """Whether there is more than one funnel: only then is a funnel ever named or asked for."""
    return len(await funnels(ctx)) > 1


async def last_used_first(ctx: ChatContext) -> list[Pipeline]:
    """The funnels as offered: the one the user last worked in first, then the core's order."""
    every = await funnels(ctx)
    last = (await ctx.crm.followups.preferences(actor=ctx.user)).last_pipeline_id
    return sorted(every, key=lambda p: p.id != last)


async def remember(ctx: ChatContext, pipeline_id: int) -> None:
    """Keep the funnel the user has just chosen, to offer it first next time."""
    await ctx.crm.followups.remember_pipeline(actor=ctx.user, pipeline_id=pipeline_id)


async def funnel(ctx: ChatContext, pipeline_id: int) -> Pipeline:
    """One funnel by id (``NotFound`` for one that is gone: a button older than the funnel file)."""
    for pipeline in await funnels(ctx):
        if pipeline.id == pipeline_id:
            return pipeline
    raise NotFound("pipeline", pipeline_id)


def funnel_name(pipeline: Pipeline) -> str:
    """A funnel's name as its admin wrote it (names are the team's own, never translated)."""
    return pipeline.name


def funnel_rows(
    pipelines: Sequence[Pipeline],
    to: Callable[[int], Action],
    *,
    current: int | None = None,
    one: bool = False,
) -> list[list[Button]]:
    """A button per funnel, its action ``to(pipeline id)``, ``current`` marked: as many on a row (up to
    three) as show their names whole; ``one``: one a row (a short question's keyboard is narrow)."""
    buttons = [
        Button.act(("• " if p.id == current else f"{ICON} ") + isolate(funnel_name(p)), to(p.id))
        for p in pipelines
    ]
    if one:
        return [[b] for b in buttons]
    return pack((b.text, b) for b in buttons)


def funnel_line(pipeline: Pipeline) -> str:
    """The line naming a deal's or a screen's funnel."""
    return f"{ICON} {isolate(h(funnel_name(pipeline)))}"
