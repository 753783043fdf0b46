"""The demo's renewals and targets: a second pipeline with a few deals, and this month's targets set so
that /report tells a story — Ali ahead of his target, Maria behind hers, Tom on his way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from crm_core.domain.funnel import StageKind, StageSpec
from crm_core.domain.targets import month_bounds, month_of
from crm_core.domain.users import User
from crm_core.services import Crm
from kanbot.demo import catalog
from kanbot.demo.team import ALI, MARIA, TOM, DemoUser
from kanbot.demo.words import say

RENEWALS = "Renewals"
RENEWAL_STAGES = [
    StageSpec(
        "Renewal due", StageKind.INBOX, timedelta(days=1), "Call the customer before the contract ends", 30
    ),
    StageSpec("Quote sent", StageKind.OPEN, timedelta(days=3), "Agree on the terms for the next year", 60),
    StageSpec("Invoice", StageKind.OPEN, timedelta(days=5), "Get the renewal invoice paid", 85),
    StageSpec("Renewed", StageKind.WON, None, "Thank them and note the next renewal date", 100),
    StageSpec("Churned", StageKind.LOST, None, "Note why they left", 0),
]
THOUSAND = Decimal(1000)
Action = Callable[[], Awaitable[None]]
Plan = Callable[[datetime, Action], None]


async def add_renewals_pipeline(crm: Crm) -> None:
    """The second pipeline, after the default one."""
    async with crm.db.uow() as uow:
        await uow.pipelines.create(RENEWALS, RENEWAL_STAGES, is_default=False, position=2)
        await uow.commit()


@dataclass(slots=True)
class _Renewal:
    """A renewal deal of the demo: what is done to it; its id is known once it was created."""

    crm: Crm
    seller: User
    title: str
    amount: str
    id: int = 0

    async def create(self) -> None:
        deal = await self.crm.deals.create(
            actor=self.seller, title=self.title, amount=self.amount, pipeline=RENEWALS
        )
        self.id = deal.id

    def move(self, stage: str) -> Action:
        async def run() -> None:
            await self.crm.deals.move(deal_id=self.id, to_stage=stage, actor=self.seller)

        return run

    async def renew(self) -> None:
        await self.crm.deals.mark_won(deal_id=self.id, actor=self.seller)

    async def churn(self) -> None:
        await self.crm.deals.mark_lost(deal_id=self.id, reason="Price", actor=self.seller)


def plan_renewals(crm: Crm, users: dict[str, User], now: datetime, lang: str | None, plan: Plan) -> None:
    """Four renewals: Ali's renewed this month (his lead on the target), Maria's quoted, Tom's at the
    invoice, and one of Tom's churned last month."""
    tz = crm.config.team_timezone
    start, _ = month_bounds(month_of(now, tz), tz)
    earliest = max(start, now - timedelta(days=3))
    renewed_at = earliest + (now - earliest) / 2  # this month, whenever "now" is in it

    def renewal(seller: DemoUser, customer: catalog.Customer, amount: str) -> _Renewal:
        typed = lang or seller.locale
        title = f"{say(customer.company, typed)}: {say('support renewal', typed)}"
        return _Renewal(crm, users[seller.name], title, amount)

    alis = renewal(ALI, catalog.ALI_CUSTOMERS[0], "14000")
    plan(now - timedelta(days=20), alis.create)
    plan(now - timedelta(days=10), alis.move("Quote sent"))
    plan(renewed_at, alis.renew)
    marias = renewal(MARIA, catalog.MARIA_CUSTOMERS[0], "3000")
    plan(now - timedelta(days=6), marias.create)
    plan(now - timedelta(days=4), marias.move("Quote sent"))
    toms = renewal(TOM, catalog.TOM_CUSTOMERS[0], "6500")
    plan(now - timedelta(days=12), toms.create)
    plan(now - timedelta(days=2), toms.move("Invoice"))
    churned = renewal(TOM, catalog.TOM_CUSTOMERS[1], "4200")
    plan(now - timedelta(days=45), churned.create)
    plan(now - timedelta(days=33), churned.churn)


async def set_targets(crm: Crm, boss: User) -> None:
    """This month's targets, from how the month went: Ali's below what he won, Maria's far above her
    forecast, Tom's a little above his."""
    report = await crm.targets.targets(actor=boss)
    figures = {row.seller.telegram_id: row.figures for row in report.sellers}
    ali, maria, tom = figures[ALI.telegram_id], figures[MARIA.telegram_id], figures[TOM.telegram_id]
    goals = [
        (ALI, _round(ali.won_amount * Decimal("0.8"), ROUND_FLOOR), max(ali.won_deals, 1)),
        (MARIA, _round(maria.forecast_amount * 3 + 10 * THOUSAND, ROUND_CEILING), maria.won_deals + 4),
        (TOM, _round(tom.forecast_amount * Decimal("1.1"), ROUND_CEILING), tom.won_deals + 2),
    ]
    for seller, amount, deals in goals:
        await crm.targets.set_target(
            seller_telegram_id=seller.telegram_id, month=report.month, amount=amount, deals=deals, actor=boss
        )


def _round(amount: Decimal, rounding: str) -> Decimal:
    """To whole thousands, at least one thousand."""
    return max((amount / THOUSAND).quantize(Decimal(1), rounding) * THOUSAND, THOUSAND)
