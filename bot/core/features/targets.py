"""Sales targets in the chat: a boss sets a seller's month from /team; /report and the digest show the
month against the targets and the summary figures (docs/reports.md, "Targets" and "Summary")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date

from bot.core import actions as A
from bot.core.context import ChatContext
from bot.core.dialogs import TargetQuestion
from bot.core.errors import explain
from bot.core.events import SharedContact, Text
from bot.core.i18n import Tr, h
from bot.core.routing import Router
from bot.core.views import Button, Reply, View
from crm_core.domain.conversations import Dialog
from crm_core.domain.errors import InvalidInput, NotAllowed, NotFound
from crm_core.domain.targets import next_month, target_amount, target_deals
from crm_core.domain.users import User
from crm_core.reports.models import Period
from crm_core.reports.summary import Summary, SummaryFigures
from crm_core.reports.targets import TargetFigures, TargetsReport

router = Router("targets")
BAR = 10


def N_(message: str) -> str:
    return message


SOURCE_NAMES = {
    "manual": N_("by hand"),
    "call": N_("calls"),
    "missed_call": N_("missed calls"),
    "import": N_("import"),
    "api": N_("API"),
    "web_form": N_("web form"),
}


def month_name(month: str, tr: Tr) -> str:
    """'2026-12' as the reader's language names it: "December 2026"."""
    first = date(int(month[:4]), int(month[5:]), 1)
    return format_date(first, "LLLL y", locale=tr.locale)


def bar(share: float) -> str:
    """A share of the target as ten cells, full beyond 100 %."""
    filled = max(0, min(BAR, round(share * BAR)))
    return "▰" * filled + "▱" * (BAR - filled)


def target_line(figures: TargetFigures, tr: Tr, currency: str) -> str:
    """Won against the target, its share as a bar, and the forecast."""
    won = tr.money(figures.won_amount, currency)
    forecast = tr("forecast {amount}", amount=tr.money(figures.forecast_amount, currency))
    if figures.target_amount is None or figures.share is None:
        return tr("no target · won {won}", won=won) + " · " + forecast
    text = (
        f"{bar(figures.share)} {tr.percent(figures.share)} · "
        + tr("{won} of {target}", won=won, target=tr.money(figures.target_amount, currency))
        + " · "
        + forecast
    )
    if figures.target_deals is not None:
        text += " · " + tr("deals {won}/{target}", won=figures.won_deals, target=figures.target_deals)
    return text


def targets_lines(report: TargetsReport, tr: Tr, currency: str, *, team: bool) -> list[str]:
    """The month against the targets: each seller, and the team when ``team``."""
    left = tr.ngettext("{n} day left", "{n} days left", report.team.days_left)
    lines = ["🎯 <b>" + tr("Targets — {month}", month=month_name(report.month, tr)) + f"</b> · {left}"]
    lines += [f"👤 <b>{h(r.seller.name)}</b>: {target_line(r.figures, tr, currency)}" for r in report.sellers]
    if team and len(report.sellers) != 1:
        lines.append("👥 <b>" + tr("The team") + "</b>: " + target_line(report.team, tr, currency))
    return lines


def summary_figure_lines(f: SummaryFigures, tr: Tr, currency: str) -> list[str]:
    """Won, lost and the win rate; the average won deal and the median cycle; new deals by source."""
    rate = tr.percent(f.win_rate) if f.win_rate is not None else "—"
    first = (
        "🏆 "
        + tr("Won: {n} · {amount}", n=f.won_count, amount=tr.money(f.won_amount, currency))
        + " · 🚫 "
        + tr("Lost: {n}", n=f.lost_count)
        + " · "
        + tr("win rate {rate}", rate=rate)
    )
    cycle = (
        "—"
        if f.median_cycle_days is None
        else tr("{n} d", n=tr.number(Decimal(str(round(f.median_cycle_days, 1)))))
    )
    second = (
        "💰 "
        + tr("Average won deal: {amount}", amount=tr.money(f.average_won_amount, currency))
        + " · ⏱ "
        + tr("median cycle: {time}", time=cycle)
    )
    sources = ", ".join(f"{tr(SOURCE_NAMES.get(s, s))} {n}" for s, n in f.new_by_source.items() if n)
    third = "➕ " + tr("New deals: {n}", n=f.new_count) + (f" — {sources}" if sources else "")
    return [first, second, third]


def summary_lines(summary: Summary, tr: Tr, currency: str, title: str, *, sellers: bool) -> list[str]:
    """The summary: the team's (or the seller's own) figures, then a line per seller when ``sellers``."""
    lines = ["📌 <b>" + title + "</b>", *summary_figure_lines(summary.team, tr, currency)]
    if sellers and len(summary.sellers) > 1:
        for row in summary.sellers:
            f = row.figures
            rate = tr.percent(f.win_rate) if f.win_rate is not None else "—"
            lines.append(
                f"👤 <b>{h(row.seller.name)}</b>: "
                + tr(
                    "won {n} · {amount} · lost {lost} · win rate {rate}",
                    n=f.won_count,
                    amount=tr.money(f.won_amount, currency),
                    lost=f.lost_count,
                    rate=rate,
                )
            )
    return lines


async def targets_and_summary_lines(
    ctx: ChatContext, period: Period, period_label: str, seller: int | None
) -> list[str]:
    """/report's targets of this month and the period's summary: the team's, one seller's, or one's own."""
    tr, crm = ctx.tr, ctx.crm
    currency = crm.config.default_currency
    everyone = ctx.user.is_boss and not seller
    targets = await crm.targets.targets(actor=ctx.user, seller_telegram_id=seller)
    summary = await crm.summary.summary(actor=ctx.user, period=period, seller_telegram_id=seller)
    title = tr("Summary — {period}", period=tr(period_label).lower())
    return [
        "",
        *targets_lines(targets, tr, currency, team=everyone),
        "",
        *summary_lines(summary, tr, currency, title, sellers=everyone),
    ]


async def _member(ctx: ChatContext, user_id: int) -> User:
    if not ctx.user.is_boss:
        raise NotAllowed("set targets")
    person = await ctx.crm.users.get(user_id)
    if person is None:
        raise NotFound("user", user_id)
    return person


def target_button(ctx: ChatContext, person: User) -> Button:
    """The seller page's "Target" button."""
    return Button.act("🎯 " + ctx.tr("Target…"), A.TargetAsk(person.id, 0))


async def seller_target_line(ctx: ChatContext, person: User) -> str:
    """The seller page's line: this month against their target."""
    report = await ctx.crm.targets.targets(actor=ctx.user, seller_telegram_id=person.telegram_id)
    tr = ctx.tr
    return f"🎯 {month_name(report.month, tr)}: " + target_line(
        report.team, tr, ctx.crm.config.default_currency
    )


@router.button(A.TargetAsk)
async def on_target_ask(ctx: ChatContext, p: A.TargetAsk) -> Reply:
    """Ask the seller's target for this month (or the next): the amount first."""
    person = await _member(ctx, p.user_id)
    tr, this_month = ctx.tr, ctx.crm.targets.current_month()
    month = next_month(this_month) if p.later else this_month
    await ctx.crm.dialogs.put(
        ctx.user.telegram_id, TargetQuestion(user_id=person.id, month=month), step="amount"
    )
    report = await ctx.crm.targets.targets(actor=ctx.user, month=month, seller_telegram_id=person.telegram_id)
    current = report.team.target_amount
    lines = [
        "🎯 "
        + tr(
            "Type {name}'s target for {month}: the amount to win, e.g. 500000.",
            name=person.name,
            month=month_name(month, tr),
        )
    ]
    if current is not None:
        lines.append(tr("Now: {amount}", amount=tr.money(current, ctx.crm.config.default_currency)))
    lines.append("<i>" + tr("Or /cancel to stop.") + "</i>")
    other = A.TargetAsk(person.id, 0 if p.later else 1)
    label = tr("This month") if p.later else tr("Next month")
    buttons = [[Button.act("📅 " + label, other), Button.act("⬅ " + tr("Back"), A.TeamSeller(person.id))]]
    return Reply().edit(ctx.message_id, View.of(lines, buttons))


def _again(ctx: ChatContext, error: InvalidInput) -> Reply:
    return Reply().send(View.of(["⚠️ " + explain(error, ctx.tr), ctx.tr("Type it again, or /cancel.")]))


@router.flow(TargetQuestion.FLOW)
async def on_target_text(ctx: ChatContext, dialog: Dialog, event: Text | SharedContact) -> Reply:
    """The amount, then the number of deals: each checked as typed, and asked again when wrong."""
    state = dialog.state(TargetQuestion)
    person = await _member(ctx, state.user_id)
    typed = event.text if isinstance(event, Text) else event.phone
    tr = ctx.tr
    if dialog.step == "amount":
        try:
            amount = target_amount(typed)
        except InvalidInput as error:
            return _again(ctx, error)
        asked = await ctx.crm.dialogs.put(
            ctx.user.telegram_id,
            TargetQuestion(user_id=person.id, month=state.month, amount=str(amount)),
            step="deals",
        )
        lines = [tr("How many deals should {name} win? Type a number, or skip.", name=person.name)]
        return Reply().send(View.of(lines, [[Button.act("⏭ " + tr("Skip"), A.TargetSkip(asked.draft))]]))
    try:
        deals = target_deals(typed)
    except InvalidInput as error:
        return _again(ctx, error)
    return await _save(ctx, person, state, deals)


@router.button(A.TargetSkip)
async def on_target_skip(ctx: ChatContext, p: A.TargetSkip) -> Reply:
    """Set the target without a number of deals — only from the question this button came with."""
    dialog = await ctx.crm.dialogs.confirmed(
        ctx.user.telegram_id, flow=TargetQuestion.FLOW, draft=p.draft, step="deals", what="question"
    )
    state = dialog.state(TargetQuestion)
    return await _save(ctx, await _member(ctx, state.user_id), state, None)


async def _save(ctx: ChatContext, person: User, state: TargetQuestion, deals: int | None) -> Reply:
    done = await ctx.crm.targets.set_target(
        seller_telegram_id=person.telegram_id,
        month=state.month,
        amount=state.amount or "",
        deals=deals,
        actor=ctx.user,
    )
    await ctx.crm.dialogs.drop(ctx.user.telegram_id)
    tr, currency = ctx.tr, ctx.crm.config.default_currency
    notice = "✅ " + tr(
        "Target for {month}: {amount}",
        month=month_name(done.target.month, tr),
        amount=tr.money(done.target.amount, currency),
    )
    if done.target.deals is not None:
        notice += " · " + tr.ngettext("{n} deal", "{n} deals", done.target.deals)
    buttons = [
        [
            Button.act("👤 " + tr.label("{name}'s page", name=person.name), A.TeamSeller(person.id)),
            Button.act("📈 " + tr("Report"), A.Report("30d", 0)),
        ]
    ]
    return Reply().send(View.of([notice], buttons))
