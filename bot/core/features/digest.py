"""The daily and weekly digest: the funnel, the activity, the stalest deals; its time and on/off."""

from __future__ import annotations

from datetime import timedelta

from bot.core import actions as A
from bot.core.chart import drawn, loss_chart
from bot.core.context import ChatContext
from bot.core.features.cards import stage_label, stage_name
from bot.core.features.deal_view import beside
from bot.core.features.reports import calls_lines, conversion_lines, funnel_lines, sellers_lame_lines
from bot.core.features.targets import summary_lines, targets_lines
from bot.core.i18n import Tr, h
from bot.core.renderers import Outgoing
from bot.core.routing import Router
from bot.core.views import Button, Reply, SendPhoto, Typing, View, fit
from crm_core.domain import notifications as notes
from crm_core.domain.errors import InvalidInput
from crm_core.reports.digest import Digest, DigestSection
from crm_core.reports.models import ActivitySummary

router = Router("digest")


def _activity_lines(
    tr: Tr, act: ActivitySummary, currency: str, previous: ActivitySummary | None
) -> list[str]:
    def delta(now: int, before: int | None) -> str:
        if before is None:
            return ""
        change = now - before
        return f" ({'+' if change >= 0 else ''}{change})"

    p = previous
    lines = [
        "➕ "
        + tr("New deals: {n}", n=act.new_deals)
        + delta(act.new_deals, p.new_deals if p else None)
        + (" · " + tr("from calls: {n}", n=act.new_from_calls) if act.new_from_calls else ""),
        "➡️ "
        + tr("Moved forward: {n}", n=act.moved_forward)
        + delta(act.moved_forward, p.moved_forward if p else None),
        "🏆 "
        + tr("Won: {n} · {amount}", n=act.won_count, amount=tr.money(act.won_amount, currency))
        + delta(act.won_count, p.won_count if p else None),
        "🚫 "
        + tr("Lost: {n}", n=act.lost_count)
        + delta(act.lost_count, p.lost_count if p else None)
        + (
            " — " + ", ".join(f"{tr(r)} ×{n}" for r, n in act.top_lost_reasons)
            if act.top_lost_reasons
            else ""
        ),
    ]
    return lines


def _section_lines(tr: Tr, section: DigestSection, currency: str, *, weekly: bool) -> list[str]:
    """One pipeline's funnel, activity, conversion and losses, and sellers."""
    lines = [*funnel_lines(section.funnel, tr, currency), ""]
    since = tr("This week, compared with the week before") if weekly else tr("Since the last digest")
    lines += [f"<b>{since}</b>", *_activity_lines(tr, section.activity, currency, section.previous), ""]
    lines += [
        "🔁 <b>" + tr("Conversion and losses — 30 days") + "</b>",
        *conversion_lines(section.conversion, tr),
    ]
    lines += sellers_lame_lines(section.seller_lame, section.conversion, tr)
    lines += ["", "👥 <b>" + tr("Sellers") + "</b> <i>(" + tr("open · won · lost · stale") + ")</i>"]
    lines += [
        f"• {h(r.seller.name)}: {r.open_count} · {r.won_count} · {r.lost_count} · {r.stale_count}"
        for r in section.sellers
    ]
    return lines


def split_messages(lines: list[str], limit: int = 4000) -> list[str]:
    """Split a long text at line boundaries, never mid-line, into messages Telegram accepts."""
    chunks: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit and chunks[-1]:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line) + 1
    return [fit(chunk, limit) for chunk in chunks if any(chunk)]


async def digest_messages(ctx: ChatContext, digest: Digest) -> list[Outgoing]:
    tr, now, currency = ctx.tr, ctx.now, ctx.crm.config.default_currency
    title = tr("Weekly digest") if digest.weekly else tr("Daily digest")
    lines = [f"🗞 <b>{title}</b> · {tr.when(now, now=now, relative=False)}", ""]
    sections = digest.sections
    for number, section in enumerate(sections):
        if len(sections) > 1:  # a section per pipeline, each under its name
            lines += ([""] if number else []) + [f"🧭 <b>{h(section.pipeline.name)}</b>", ""]
        lines += _section_lines(tr, section, currency, weekly=digest.weekly)
    if digest.calls is not None:
        lines += ["", "📞 <b>" + tr("Calls") + "</b>", *calls_lines(digest.calls, tr)]
    if digest.targets is not None:
        lines += ["", *targets_lines(digest.targets, tr, currency, team=True)]
    if digest.summary is not None:
        title = tr("Summary — {period}", period=tr("30 days").lower())
        lines += ["", *summary_lines(digest.summary, tr, currency, title, sellers=True)]
    if digest.missed_calls:
        lines += ["", "📵 <b>" + tr("Missed calls not called back: {n}", n=len(digest.missed_calls)) + "</b>"]
        lines += [
            f"• {h(t.deal_title or '')} — {h(t.assignee_name or tr('nobody'))}, {tr.when(t.due_at, now=now)}"
            for t in digest.missed_calls[:10]
        ]
    buttons: list[list[Button]] = []
    if digest.stalest:
        lines += ["", "⏰ <b>" + tr("The stalest deals") + "</b>"]
        for deal in digest.stalest:
            owner = deal.owner.name if deal.owner else tr("nobody")
            lines.append(f"• {h(deal.title)} — {h(owner)}, {stage_name(deal.stage, tr)}")
            buttons += beside(
                "📣 ",
                deal.title,
                Button.act("📣", A.Nudge(deal.id)),
                Button.act("👥 " + tr.label("Reassign"), A.ReassignMenu(deal.id, deal.version)),
            )
    prefs = await ctx.crm.followups.preferences(actor=ctx.user)
    buttons.append(
        [Button.act("🕘 " + tr.label("Digest time: {time}", time=prefs.digest_time), A.DigestSet("menu"))]
    )
    texts = split_messages(lines)
    views: list[Outgoing] = [View(text) for text in texts[:-1]]
    views.append(View(texts[-1], tuple(tuple(r) for r in buttons)))
    views.append(await chart(ctx, digest))
    return views


async def chart(ctx: ChatContext, digest: Digest) -> SendPhoto:
    """Where deals are lost over the digest's 30 days, the core's worst stage in red."""
    png = await drawn(loss_chart(digest.conversion, ctx.tr, stage_label))
    caption = "📊 " + ctx.tr("Each bar: the share of a stage's deals lost there. Red: where most are lost.")
    return SendPhoto(png, caption)


async def digest_note(ctx: ChatContext, p: notes.Digest) -> list[Outgoing]:
    digest = await ctx.crm.reports.digest(actor=ctx.user, since=p.since, until=p.until, weekly=p.weekly)
    return await digest_messages(ctx, digest)


@router.command("digest", boss=True)
async def on_digest(ctx: ChatContext, args: str) -> Reply:
    """Show the daily digest now."""
    digest = await ctx.crm.reports.digest(actor=ctx.user, since=ctx.now - timedelta(days=1), until=ctx.now)
    reply = Reply(actions=[Typing()])
    for message in await digest_messages(ctx, digest):
        reply.actions.append(message) if isinstance(message, SendPhoto) else reply.send(message)
    return reply


@router.button(A.DigestSet)
async def on_digest_settings(ctx: ChatContext, p: A.DigestSet) -> Reply:
    """Digest time, the digest on/off (bosses), the morning plan on/off."""
    option, tr = p.option, ctx.tr
    if option == "menu":
        times = ["07:00", "08:00", "09:00", "10:00", "18:00"]
        prefs = await ctx.crm.followups.preferences(actor=ctx.user)
        rows = [
            [
                Button.act(
                    ("• " if t == prefs.digest_time else "") + t, A.DigestSet("t" + t.replace(":", ""))
                )
                for t in times
            ],
            [
                Button.act(
                    "🔕 " + tr("No digest") if prefs.digest_enabled else "🔔 " + tr("Digest on"),
                    A.DigestSet("off" if prefs.digest_enabled else "on"),
                )
            ],
        ]
        return Reply().send(
            View.of(
                [tr("When should the daily digest come? (your time zone: {tz})", tz=ctx.user.timezone)], rows
            )
        )
    if option.startswith("t") and len(option) == 5 and option[1:].isdigit():
        prefs = await ctx.crm.followups.set_preferences(
            actor=ctx.user,
            digest_time=f"{option[1:3]}:{option[3:]}",
            digest=True if ctx.user.is_boss else None,
        )
        return Reply().edit(
            ctx.message_id, View.of(["🕘 " + tr("The digest comes at {time}.", time=prefs.digest_time)])
        )
    settings = {
        "off": {"digest": False},
        "on": {"digest": True},
        "mp0": {"morning_plan": False},
        "mp1": {"morning_plan": True},
    }
    if option not in settings:
        raise InvalidInput("setting", option)
    await ctx.crm.followups.set_preferences(actor=ctx.user, **settings[option])  # type: ignore[arg-type]
    texts = {
        "off": tr("The daily digest is off. /digest still shows it."),
        "on": tr("The daily digest is on."),
        "mp0": tr("No more morning plans. Send /morning to turn them back on."),
        "mp1": tr("The morning plan is on."),
    }
    return Reply().answer(texts[option]).send(View.of([texts[option]]))
