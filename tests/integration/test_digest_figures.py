"""The digest says what the reports say: its figures are the report service's on the same data, its
text carries them, and a digest too long for one message is split between lines, never inside one."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from bot.core.context import ChatSettings
from bot.core.notify import Notifier
from bot.core.views import TEXT_LIMIT, SendPhoto, View
from crm_core.domain.notifications import NoteKind, decode_payload
from crm_core.domain.users import Role, User
from crm_core.ports import FixedClock
from crm_core.reports.models import Period
from crm_core.services import Crm
from tests.integration.followup_support import DAY, HOUR
from tests.integration.support import Team

UNTIL = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SINCE = UNTIL - DAY


async def a_month_of_sales(crm: Crm, team: Team, clock: FixedClock) -> None:
    """Three sellers' month: new deals, moves, wins and losses, some of it in the last day."""
    clock.current = UNTIL - 20 * DAY
    alice = [await crm.deals.create(actor=team.alice, title=f"A{i}", amount="1000") for i in range(5)]
    bob = [await crm.deals.create(actor=team.bob, title=f"B{i}", amount="2500") for i in range(4)]
    await crm.deals.create(actor=team.carol, title="C0")
    clock.advance(2 * DAY)
    for deal in alice[:4] + bob[:3]:
        await crm.deals.move(deal_id=deal.id, to_stage="Opportunity", actor=deal_owner(team, deal.title))
    clock.advance(3 * DAY)
    for deal in alice[:2]:
        await crm.deals.move(deal_id=deal.id, to_stage="Commercial offer", actor=team.alice)
    await crm.deals.mark_lost(deal_id=alice[2].id, reason="Too expensive", actor=team.alice)
    await crm.deals.mark_lost(deal_id=bob[0].id, reason="Too expensive", actor=team.bob)
    await crm.deals.mark_won(deal_id=bob[1].id, actor=team.bob)
    clock.current = SINCE + 2 * HOUR  # the last day
    await crm.deals.create(actor=team.alice, title="A new one")
    await crm.deals.mark_won(deal_id=alice[0].id, actor=team.alice)
    await crm.deals.move(deal_id=alice[1].id, to_stage="Document approval", actor=team.alice)
    await crm.deals.mark_lost(deal_id=bob[2].id, reason="Went silent", actor=team.bob)
    clock.current = UNTIL


def deal_owner(team: Team, title: str) -> User:
    return team.alice if title.startswith("A") else team.bob


async def test_the_digests_figures_are_the_report_services_on_the_same_data(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await a_month_of_sales(crm, team, clock)
    digest = await crm.reports.digest(actor=team.boss, since=SINCE, until=UNTIL)
    month = Period(UNTIL - 30 * DAY, UNTIL)
    reports = crm.reports
    assert digest.funnel == await reports.funnel(actor=team.boss)
    assert digest.conversion == await reports.conversion(actor=team.boss, period=month)
    assert digest.sellers == await reports.sellers(actor=team.boss, period=month)
    assert digest.seller_lame == await reports.lame_stages_by_seller(actor=team.boss, period=month)
    assert digest.activity == await reports.activity(actor=team.boss, period=Period(SINCE, UNTIL))
    assert digest.previous is None
    # and the figures are the story's, not merely equal to each other
    assert (digest.activity.new_deals, digest.activity.won_count, digest.activity.lost_count) == (1, 1, 1)
    assert digest.activity.won_amount == Decimal("1000")
    assert digest.conversion.lame_stage is not None and digest.conversion.lame_stage.name == "Opportunity"
    assert [(r.seller.name, r.open_count, r.won_count, r.lost_count) for r in digest.sellers] == [
        ("Alice", 4, 1, 1),
        ("Bob", 1, 1, 2),
        ("Carol", 1, 0, 0),
    ]


async def test_the_weekly_digest_compares_the_week_with_the_one_before(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    await a_month_of_sales(crm, team, clock)
    digest = await crm.reports.digest(actor=team.boss, since=SINCE, until=UNTIL, weekly=True)
    week = Period(UNTIL - 7 * DAY, UNTIL)
    assert digest.period == week
    assert digest.activity == await crm.reports.activity(actor=team.boss, period=week)
    assert digest.previous == await crm.reports.activity(
        actor=team.boss, period=Period(week.start - 7 * DAY, week.start)
    )


async def test_the_digest_text_carries_the_report_figures(crm: Crm, team: Team, clock: FixedClock) -> None:
    await a_month_of_sales(crm, team, clock)
    payload = {"since": SINCE.isoformat(), "until": UNTIL.isoformat(), "weekly": False}
    messages = await Notifier(crm, ChatSettings()).render(team.boss, decode_payload(NoteKind.DIGEST, payload))
    *texts, chart = messages
    assert all(isinstance(m, View) for m in texts) and isinstance(chart, SendPhoto)
    assert chart.png.startswith(b"\x89PNG")
    text = "\n".join(m.html for m in texts if isinstance(m, View))
    funnel = await crm.reports.funnel(actor=team.boss)
    for row in funnel.rows:
        assert f"{row.stage.name}: <b>{row.count}</b>" in text.replace("&amp;", "&")
    conversion = await crm.reports.conversion(actor=team.boss, period=Period(UNTIL - 30 * DAY, UNTIL))
    opportunity = next(r for r in conversion.rows if r.stage.name == "Opportunity")
    assert f"Opportunity: {opportunity.entered} in → " in text
    assert "Where deals are lost: <b>Opportunity</b>" in text
    for seller in await crm.reports.sellers(actor=team.boss, period=Period(UNTIL - 30 * DAY, UNTIL)):
        figures = [seller.open_count, seller.won_count, seller.lost_count, seller.stale_count]
        assert f"• {seller.seller.name}: " + " · ".join(map(str, figures)) in text
    assert "New deals: 1" in text and "Won: 1 · ₽1,000" in text and "Lost: 1 — Went silent ×1" in text


async def test_a_digest_too_long_for_one_message_is_split_between_lines(
    crm: Crm, team: Team, clock: FixedClock
) -> None:
    for number in range(70):  # long names: seventy lines of about ninety characters
        name = f"Seller number {number:02d} with a rather long name to fill the digest " + "x" * 20
        await crm.users.add(telegram_id=1000 + number, name=name, role=Role.SELLER)
    payload = {"since": SINCE.isoformat(), "until": UNTIL.isoformat(), "weekly": False}
    *texts, chart = await Notifier(crm, ChatSettings()).render(
        team.boss, decode_payload(NoteKind.DIGEST, payload)
    )
    assert len(texts) >= 2 and isinstance(chart, SendPhoto)
    assert all(isinstance(m, View) and len(m.html) <= TEXT_LIMIT for m in texts)
    lines = [line for m in texts if isinstance(m, View) for line in m.html.split("\n")]
    sellers = [line for line in lines if line.startswith("• Seller number")]
    assert sellers == [
        line for line in sellers if re.fullmatch(r"• Seller number \d\d .*x{20}: 0 · 0 · 0 · 0", line)
    ]
    assert [int(line[16:18]) for line in sellers] == list(range(70))  # every one whole, in order
    assert "…" not in "".join(lines)  # nothing was cut off
    assert texts[-1].buttons and not any(m.buttons for m in texts[:-1])  # the buttons end the digest
