"""/report: the funnel now, and conversion and losses per stage over a period, with where deals are lost."""

from __future__ import annotations

from datetime import timedelta

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.features.cards import STAGE_ICON, stage_name
from bot.core.features.funnel_picks import (
    funnel,
    funnel_line,
    funnel_rows,
    funnels,
    last_used_first,
    remember,
    several,
)
from bot.core.features.targets import targets_and_summary_lines
from bot.core.i18n import Tr, h
from bot.core.routing import Router
from bot.core.views import Button, Reply, View
from crm_core.domain.errors import InvalidInput
from crm_core.reports.models import (
    CallFigures,
    CallsReport,
    ConversionReport,
    FunnelSnapshot,
    SellerLameStage,
)
from crm_core.reports.periods import parse_period

router = Router("reports")
PERIODS = {"today": "Today", "7d": "7 days", "30d": "30 days", "quarter": "Quarter"}


def funnel_lines(snapshot: FunnelSnapshot, tr: Tr, currency: str) -> list[str]:
    lines = [
        "📊 <b>"
        + tr("Funnel now")
        + "</b> — "
        + tr("{count} open · {amount}", count=snapshot.count, amount=tr.money(snapshot.amount, currency))
        + " · "
        + tr("weighted {amount}", amount=tr.money(snapshot.weighted_amount, currency))
    ]
    for row in snapshot.rows:
        amount = f" · {tr.money(row.amount, currency)}" if row.count else ""
        lines.append(
            f"{STAGE_ICON[row.stage.kind]} {stage_name(row.stage, tr)}: <b>{tr.number(row.count)}</b>{amount}"
        )
    return lines


def conversion_lines(report: ConversionReport, tr: Tr) -> list[str]:
    lines = []
    for row in report.rows:
        if not row.entered:
            lines.append(f"{STAGE_ICON[row.stage.kind]} {stage_name(row.stage, tr)}: —")
            continue
        lame = " ⚠️" if report.lame_stage and row.stage.id == report.lame_stage.id else ""
        lines.append(
            f"{STAGE_ICON[row.stage.kind]} {stage_name(row.stage, tr)}: "
            + tr(
                "{entered} in → {on} on, {lost} lost",
                entered=tr.number(row.entered),
                on=tr.percent(row.conversion),
                lost=tr.percent(row.loss_rate),
            )
            + lame
        )
    if report.lame_stage is not None:
        worst = next(r for r in report.rows if r.stage.id == report.lame_stage.id)
        lines.append(
            "📍 "
            + tr(
                "Where deals are lost: <b>{stage}</b> — {rate} of its deals (average {avg}).",
                stage=stage_name(report.lame_stage, tr),
                rate=tr.percent(worst.loss_rate),
                avg=tr.percent(report.average_loss_rate),
            )
        )
    elif report.enough_losses:
        lines.append("👍 " + tr("No stage stands out: losses are spread evenly."))
    else:
        lines.append("🌱 " + tr("Too few deals lost yet to say where."))
    return lines


def sellers_lame_lines(items: list[SellerLameStage], team: ConversionReport, tr: Tr) -> list[str]:
    lines = []
    for item in items:
        if item.lame_stage is not None and (
            team.lame_stage is None or item.lame_stage.id != team.lame_stage.id
        ):
            lines.append(
                "📍 "
                + tr(
                    "{name} loses most deals at {stage} ({rate} lost).",
                    name=item.seller.name,
                    stage=stage_name(item.lame_stage, tr),
                    rate=tr.percent(item.loss_rate),
                )
            )
    return lines


async def report_view(ctx: ChatContext, period_key: str, seller: int, pipeline_id: int | None = None) -> View:
    """The report of one funnel (``None``: the default; with several funnels it is named, with a button
    to each of the others)."""
    if period_key not in PERIODS:
        raise InvalidInput("period", period_key)
    tr, crm = ctx.tr, ctx.crm
    period = parse_period(period_key, now=ctx.now, tz=ctx.user.timezone)
    target = seller or None
    pipeline = await funnel(ctx, pipeline_id) if pipeline_id is not None else None
    ref = pipeline.id if pipeline is not None else None
    snapshot = await crm.reports.funnel(actor=ctx.user, seller_telegram_id=target, pipeline=ref)
    conversion = await crm.reports.conversion(
        actor=ctx.user, period=period, seller_telegram_id=target, pipeline=ref
    )
    whose: str = tr("the team") if ctx.user.is_boss and not seller else tr("your deals")
    if seller and ctx.user.is_boss:
        person = await crm.users.by_telegram_id(seller)
        whose = person.name if person else "?"
    lines = [
        f"📈 <b>{tr('Report')}</b> · {h(whose)}",
        *([funnel_line(pipeline)] if pipeline is not None else []),
        "",
        *funnel_lines(snapshot, tr, crm.config.default_currency),
        "",
        "🔁 <b>" + tr("Conversion and losses — {period}", period=tr(PERIODS[period_key]).lower()) + "</b>",
        *conversion_lines(conversion, tr),
    ]
    if ctx.user.is_boss and not seller:
        lines += sellers_lame_lines(
            await crm.reports.lame_stages_by_seller(actor=ctx.user, period=period, pipeline=ref),
            conversion,
            tr,
        )
    lines += await targets_and_summary_lines(ctx, period, PERIODS[period_key], target)
    if pipeline is None:
        buttons = _period_buttons(tr, A.Report, period_key, seller)
    else:
        buttons = [
            [
                Button.act(
                    ("• " if key == period_key else "") + tr(label), A.ReportIn(key, seller, pipeline.id)
                )
                for key, label in PERIODS.items()
            ],
            *funnel_rows(
                await funnels(ctx), lambda other: A.ReportIn(period_key, seller, other), current=pipeline.id
            ),
        ]
    row = [Button.act("📞 " + tr("Calls"), A.ReportCalls(period_key, seller))]
    if ctx.user.is_boss:
        sellers = (
            A.ReportSellers(period_key) if pipeline is None else A.ReportSellersIn(period_key, pipeline.id)
        )
        row.append(Button.act("👤 " + tr("Choose a seller…"), sellers))
    buttons.append(row)
    return View.of(lines, buttons)


async def first_report(ctx: ChatContext, period_key: str, seller: int) -> View:
    """/report: with several funnels, the one last used (the others a press away)."""
    if await several(ctx):
        return await report_view(ctx, period_key, seller, (await last_used_first(ctx))[0].id)
    return await report_view(ctx, period_key, seller)


def _period_buttons(
    tr: Tr, report: type[A.Report | A.ReportCalls], period_key: str, seller: int
) -> list[list[Button]]:
    return [
        [
            Button.act(("• " if key == period_key else "") + tr(label), report(key, seller))
            for key, label in PERIODS.items()
        ]
    ]


def call_figure_lines(figures: CallFigures, tr: Tr) -> list[str]:
    """Calls as two lines: what was answered and placed; what was missed and how it was returned."""
    talked = (
        tr("{answered} answered", answered=tr.number(figures.answered))
        + " · "
        + tr(
            "{outbound} outbound, {connected} connected",
            outbound=tr.number(figures.outbound),
            connected=tr.number(figures.outbound_connected),
        )
    )
    if figures.without_outcome:
        talked += " · " + tr("{n} without an outcome", n=tr.number(figures.without_outcome))
    missed = "📵 " + tr(
        "{missed} missed, {returned} returned",
        missed=tr.number(figures.missed),
        returned=tr.number(figures.returned),
    )
    if figures.median_minutes_to_call_back is not None:
        after = tr.duration(timedelta(minutes=figures.median_minutes_to_call_back))
        missed += " · " + tr("median call-back: {time}", time=after)
    if figures.never_returned:
        missed += " · ⚠️ " + tr("{n} never returned", n=tr.number(figures.never_returned))
    return [talked, missed]


def calls_lines(report: CallsReport, tr: Tr, *, team: bool = True) -> list[str]:
    """The calls report: the team's figures, then each seller's."""
    lines = []
    if team:
        lines += ["👥 <b>" + tr("The team") + "</b>: " + call_figure_lines(report.team, tr)[0]]
        lines.append("   " + call_figure_lines(report.team, tr)[1])
    for row in report.sellers:
        first, second = call_figure_lines(row.figures, tr)
        lines += [f"👤 <b>{h(row.seller.name)}</b>: {first}", f"   {second}"]
    return lines


async def calls_view(ctx: ChatContext, period_key: str, seller: int) -> View:
    """The Calls page of /report: calls answered, missed, returned and how fast, outbound."""
    if period_key not in PERIODS:
        raise InvalidInput("period", period_key)
    tr = ctx.tr
    period = parse_period(period_key, now=ctx.now, tz=ctx.user.timezone)
    report = await ctx.crm.reports.calls(actor=ctx.user, period=period, seller_telegram_id=seller or None)
    title = "📞 <b>" + tr("Calls — {period}", period=tr(PERIODS[period_key]).lower()) + "</b>"
    lines = [title, "", *calls_lines(report, tr, team=ctx.user.is_boss and not seller)]
    buttons = _period_buttons(tr, A.ReportCalls, period_key, seller)
    buttons.append([Button.act("📈 " + tr("Report"), A.Report(period_key, seller))])
    return View.of(lines, buttons)


@router.command("report")
async def on_report(ctx: ChatContext, args: str) -> Reply:
    """Show the funnel and the last 30 days' conversion, with where deals are lost marked."""
    return Reply().send(await first_report(ctx, "30d", 0))


@router.button(A.Report)
async def on_report_button(ctx: ChatContext, p: A.Report) -> Reply:
    return Reply().edit(ctx.message_id, await first_report(ctx, p.period, p.seller))


@router.button(A.ReportIn)
async def on_report_in(ctx: ChatContext, p: A.ReportIn) -> Reply:
    """Show one funnel's report, and remember it as the one last used."""
    view = await report_view(ctx, p.period, p.seller, p.pipeline_id)
    await remember(ctx, p.pipeline_id)
    return Reply().edit(ctx.message_id, view)


@router.button(A.ReportCalls)
async def on_report_calls(ctx: ChatContext, p: A.ReportCalls) -> Reply:
    """Show the calls: answered, missed and returned, outbound, per seller and for the team."""
    return Reply().edit(ctx.message_id, await calls_view(ctx, p.period, p.seller))


@router.button(A.ReportSellers, A.ReportSellersIn)
async def on_report_sellers(ctx: ChatContext, p: A.ReportSellers | A.ReportSellersIn) -> Reply:
    """Let a boss pick whose figures to see (in the funnel the report was in)."""
    people = [u for u in await ctx.crm.users.list(actor=ctx.user) if not u.is_boss]
    pipeline_id = p.pipeline_id if isinstance(p, A.ReportSellersIn) else None

    def report_of(telegram_id: int) -> A.Report | A.ReportIn:
        return (
            A.Report(p.period, telegram_id)
            if pipeline_id is None
            else A.ReportIn(p.period, telegram_id, pipeline_id)
        )

    buttons = [Button.act(u.name, report_of(u.telegram_id)) for u in people]
    rows = [
        [Button.act("👥 " + ctx.tr("The team"), report_of(0))],
        *[buttons[i : i + 2] for i in range(0, len(buttons), 2)],
    ]
    return Reply().edit(ctx.message_id, View.of([ctx.tr("Whose figures?")], rows))
