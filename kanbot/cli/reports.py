"""`kanbot report ...`: the funnel's figures, as the acting user may see them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import typer

from crm_core.domain.funnel import Stage
from crm_core.domain.values import format_amount
from crm_core.reports.models import CallFigures, Period
from crm_core.reports.periods import parse_period
from crm_core.services import Crm
from kanbot.cli.common import AS_OPTION, JSON_OPTION, as_user, fail, print_json, print_table, with_crm
from kanbot.cli.render import iso


class ReportKind(enum.StrEnum):
    FUNNEL = "funnel"
    CONVERSION = "conversion"
    SELLERS = "sellers"
    VELOCITY = "velocity"
    CALLS = "calls"


DEFAULT_PERIOD = {ReportKind.CALLS: "7d"}  # the others look back 30 days


@dataclass(frozen=True, slots=True)
class Scope:
    """What a report covers: the period, one seller (or every one), the pipeline."""

    period: Period
    seller: int | None
    pipeline: int


def _period_json(period: Period) -> dict[str, Any]:
    return {"from": iso(period.start), "to": iso(period.end)}


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def report(
    kind: ReportKind = typer.Argument(..., help="funnel, conversion, sellers, velocity or calls."),
    actor_id: int = AS_OPTION,
    period_text: str | None = typer.Option(
        None, "--period", help='How far back: "30d", "7d", "today", "quarter" (calls: 7d, others: 30d).'
    ),
    seller: int | None = typer.Option(None, help="Only this seller's deals (Telegram id; bosses)."),
    pipeline: str | None = typer.Option(
        None, help="The pipeline (name or id) whose figures to show (default: the default one)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print a report: sellers see their own figures, bosses everyone's or one seller's."""
    if pipeline is not None and kind is ReportKind.CALLS:
        fail("The calls report covers every pipeline; leave out --pipeline.")

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm)
        funnel = (await crm.pipelines.get(pipeline)).id
        period = parse_period(
            period_text or DEFAULT_PERIOD.get(kind, "30d"), now=crm.clock.now(), tz=actor.timezone
        )
        handlers = {
            ReportKind.FUNNEL: _funnel,
            ReportKind.CONVERSION: _conversion,
            ReportKind.SELLERS: _sellers,
            ReportKind.VELOCITY: _velocity,
            ReportKind.CALLS: _calls,
        }
        await handlers[kind](crm, actor, Scope(period, seller, funnel), as_json)

    with_crm(go)


async def _funnel(crm: Crm, actor: Any, scope: Scope, as_json: bool) -> None:
    seller = scope.seller
    snapshot = await crm.reports.funnel(actor=actor, seller_telegram_id=seller, pipeline=scope.pipeline)
    rows = [
        {
            "name": r.stage.name,
            "kind": r.stage.kind.value,
            "count": r.count,
            "amount": format_amount(r.amount),
            "weighted_amount": format_amount(r.weighted_amount),
        }
        for r in snapshot.rows
    ]
    if as_json:
        print_json({"stages": rows})
        return
    print_table(
        ["stage", "deals", "amount", "weighted"],
        [[r["name"], r["count"], r["amount"], r["weighted_amount"]] for r in rows]
        + [
            ["Total", snapshot.count, format_amount(snapshot.amount), format_amount(snapshot.weighted_amount)]
        ],
    )


async def _conversion(crm: Crm, actor: Any, scope: Scope, as_json: bool) -> None:
    period, seller = scope.period, scope.seller
    result = await crm.reports.conversion(
        actor=actor, period=period, seller_telegram_id=seller, pipeline=scope.pipeline
    )
    rows: list[dict[str, Any]] = [
        {
            "name": r.stage.name,
            "entered": r.entered,
            "advanced": r.advanced,
            "won": r.won,
            "lost": r.lost,
            "conversion": round(r.conversion, 4),
            "loss_rate": round(r.loss_rate, 4),
        }
        for r in result.rows
    ]
    lame = result.lame_stage.name if result.lame_stage else None
    if as_json:
        print_json({"period": _period_json(period), "stages": rows, "lame_stage": lame})
        return
    print_table(
        ["stage", "entered", "advanced", "won", "lost", "conversion", "loss rate", ""],
        [
            [
                r["name"],
                r["entered"],
                r["advanced"],
                r["won"],
                r["lost"],
                _pct(r["conversion"]),
                _pct(r["loss_rate"]),
                "← lame stage" if r["name"] == lame else "",
            ]
            for r in rows
        ],
    )
    if lame is None:
        lame = "none — losses are spread evenly" if result.enough_losses else "none yet — too few deals lost"
    typer.echo(f"Lame stage: {lame}")


async def _sellers(crm: Crm, actor: Any, scope: Scope, as_json: bool) -> None:
    period, seller = scope.period, scope.seller
    rows = await crm.reports.sellers(
        actor=actor, period=period, seller_telegram_id=seller, pipeline=scope.pipeline
    )
    lame = {
        x.seller.id: x.lame_stage
        for x in await crm.reports.lame_stages_by_seller(actor=actor, period=period, pipeline=scope.pipeline)
    }
    data: list[dict[str, Any]] = [
        {
            "telegram_id": r.seller.telegram_id,
            "name": r.seller.name,
            "open_count": r.open_count,
            "open_amount": format_amount(r.open_amount),
            "won_count": r.won_count,
            "won_amount": format_amount(r.won_amount),
            "lost_count": r.lost_count,
            "stale_count": r.stale_count,
            "lame_stage": _name(lame.get(r.seller.id)),
        }
        for r in rows
    ]
    if as_json:
        print_json({"period": _period_json(period), "sellers": data})
        return
    print_table(
        ["seller", "open", "open amount", "won", "won amount", "lost", "stale", "lame stage"],
        [
            [
                d["name"],
                d["open_count"],
                d["open_amount"],
                d["won_count"],
                d["won_amount"],
                d["lost_count"],
                d["stale_count"],
                d["lame_stage"] or "",
            ]
            for d in data
        ],
    )


async def _velocity(crm: Crm, actor: Any, scope: Scope, as_json: bool) -> None:
    period, seller = scope.period, scope.seller
    rows = await crm.reports.velocity(
        actor=actor, period=period, seller_telegram_id=seller, pipeline=scope.pipeline
    )
    data: list[dict[str, Any]] = [
        {
            "name": r.stage.name,
            "median_seconds": int(r.median.total_seconds()) if r.median is not None else None,
            "median_hours": round(r.median.total_seconds() / 3600, 1) if r.median is not None else None,
            "samples": r.samples,
        }
        for r in rows
    ]
    if as_json:
        print_json({"period": _period_json(period), "stages": data})
        return
    print_table(
        ["stage", "median time in stage", "stays"],
        [[d["name"], _human(d["median_seconds"]), d["samples"]] for d in data],
    )


def _call_json(figures: CallFigures) -> dict[str, Any]:
    return {
        "answered": figures.answered,
        "missed": figures.missed,
        "returned": figures.returned,
        "never_returned": figures.never_returned,
        "median_minutes_to_call_back": figures.median_minutes_to_call_back,
        "outbound": figures.outbound,
        "outbound_connected": figures.outbound_connected,
        "without_outcome": figures.without_outcome,
    }


async def _calls(crm: Crm, actor: Any, scope: Scope, as_json: bool) -> None:
    period, seller = scope.period, scope.seller
    result = await crm.reports.calls(actor=actor, period=period, seller_telegram_id=seller)
    sellers = [
        {"telegram_id": r.seller.telegram_id, "name": r.seller.name, **_call_json(r.figures)}
        for r in result.sellers
    ]
    if as_json:
        print_json({"period": _period_json(period), "team": _call_json(result.team), "sellers": sellers})
        return
    keys = [
        "answered",
        "missed",
        "returned",
        "never_returned",
        "median_minutes_to_call_back",
        "outbound",
        "outbound_connected",
        "without_outcome",
    ]
    print_table(
        [
            "",
            "answered",
            "missed",
            "returned",
            "never returned",
            "median min to call back",
            "outbound",
            "connected",
            "no outcome",
        ],
        [[s["name"], *("—" if s[k] is None else s[k] for k in keys)] for s in sellers]
        + [["Team", *("—" if v is None else v for v in _call_json(result.team).values())]],
    )


def _name(stage: Stage | None) -> str | None:
    return stage.name if stage is not None else None


def _human(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours}h" if days else f"{hours}h {rest // 60}m"
