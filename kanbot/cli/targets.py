"""`kanbot target ...` (each seller's monthly target) and the `targets` and `summary` reports."""

from __future__ import annotations

from typing import Any

import typer

from crm_core.domain.users import User
from crm_core.domain.values import format_amount
from crm_core.reports.models import Period
from crm_core.reports.summary import SummaryFigures
from crm_core.reports.targets import TargetFigures
from crm_core.services import Crm
from kanbot.cli.common import JSON_OPTION, as_user, print_json, print_table, with_crm
from kanbot.cli.render import iso

app = typer.Typer(help="Sales targets: set a seller's monthly target, list them.", no_args_is_help=True)

ACT_AS = typer.Option(
    None, "--as", help="Act as this user (their Telegram id; access rules apply). Default: the admin."
)


@app.command("set")
def set_target(
    seller: int = typer.Option(..., help="The seller's Telegram id."),
    month: str = typer.Option(..., help="The month, YYYY-MM (e.g. 2026-12)."),
    amount: str = typer.Option(..., help="The amount to win that month, e.g. 500000."),
    deals: int | None = typer.Option(None, help="The number of deals to win, if there is one."),
    actor_id: int | None = ACT_AS,
) -> None:
    """Set (or replace) a seller's target for a month."""

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm) if actor_id is not None else None
        done = await crm.targets.set_target(
            seller_telegram_id=seller, month=month, amount=amount, deals=deals, actor=actor
        )
        t = done.target
        extra = f", {t.deals} deals" if t.deals is not None else ""
        typer.echo(f"Target for {done.seller.name}, {t.month}: {format_amount(t.amount)}{extra}.")

    with_crm(go)


@app.command("list")
def list_targets(
    month: str | None = typer.Option(None, help="Only this month, YYYY-MM."),
    actor_id: int | None = ACT_AS,
    as_json: bool = JSON_OPTION,
) -> None:
    """The targets set, by month."""

    async def go(crm: Crm) -> None:
        actor = await as_user(actor_id)(crm) if actor_id is not None else None
        found = await crm.targets.list_targets(month=month, actor=actor)
        rows = [
            {
                "month": t.target.month,
                "telegram_id": t.seller.telegram_id,
                "name": t.seller.name,
                "amount": format_amount(t.target.amount),
                "deals": t.target.deals,
            }
            for t in found
        ]
        if as_json:
            print_json(rows)
            return
        print_table(
            ["month", "seller", "amount", "deals"],
            [[r["month"], r["name"], r["amount"], r["deals"]] for r in rows],
        )

    with_crm(go)


def _share(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def target_json(f: TargetFigures) -> dict[str, Any]:
    return {
        "target_amount": format_amount(f.target_amount),
        "target_deals": f.target_deals,
        "won_amount": format_amount(f.won_amount),
        "won_deals": f.won_deals,
        "share": _share(f.share),
        "forecast_amount": format_amount(f.forecast_amount),
        "days_left": f.days_left,
    }


async def report_targets(crm: Crm, actor: User, month: str | None, seller: int | None, as_json: bool) -> None:
    result = await crm.targets.targets(actor=actor, month=month, seller_telegram_id=seller)
    sellers = [
        {"telegram_id": r.seller.telegram_id, "name": r.seller.name, **target_json(r.figures)}
        for r in result.sellers
    ]
    if as_json:
        print_json({"month": result.month, "team": target_json(result.team), "sellers": sellers})
        return
    typer.echo(f"Month {result.month}, {result.team.days_left} days left")
    keys = ["target_amount", "target_deals", "won_amount", "won_deals", "share", "forecast_amount"]
    print_table(
        ["", "target", "target deals", "won", "won deals", "share", "forecast"],
        [[s["name"], *("—" if s[k] is None else s[k] for k in keys)] for s in sellers]
        + [["Team", *("—" if v is None else v for k, v in target_json(result.team).items() if k in keys)]],
    )


def summary_json(f: SummaryFigures) -> dict[str, Any]:
    return {
        "won_count": f.won_count,
        "won_amount": format_amount(f.won_amount),
        "lost_count": f.lost_count,
        "win_rate": _share(f.win_rate),
        "average_won_amount": format_amount(f.average_won_amount),
        "median_cycle_days": f.median_cycle_days,
        "new_by_source": dict(f.new_by_source),
    }


async def report_summary(
    crm: Crm, actor: User, period: Period, seller: int | None, pipeline: str | None, as_json: bool
) -> None:
    result = await crm.summary.summary(
        actor=actor, period=period, seller_telegram_id=seller, pipeline=pipeline
    )
    sellers = [
        {"telegram_id": r.seller.telegram_id, "name": r.seller.name, **summary_json(r.figures)}
        for r in result.sellers
    ]
    if as_json:
        print_json(
            {
                "period": {"from": iso(period.start), "to": iso(period.end)},
                "team": summary_json(result.team),
                "sellers": sellers,
            }
        )
        return
    keys = ["won_count", "won_amount", "lost_count", "win_rate", "average_won_amount", "median_cycle_days"]
    new = [f"{k}: {v}" for k, v in result.team.new_by_source.items() if v]
    print_table(
        ["", "won", "won amount", "lost", "win rate", "average won", "median cycle (days)"],
        [[s["name"], *("—" if s[k] is None else s[k] for k in keys)] for s in sellers]
        + [["Team", *("—" if v is None else v for k, v in summary_json(result.team).items() if k in keys)]],
    )
    typer.echo("New deals by source: " + (", ".join(new) or "none"))
