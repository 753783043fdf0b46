"""The demo's funnel file, renewals and targets: a second pipeline with a few deals, the team's own
fields, and this month's targets set so that /report tells a story — Ali ahead of his target, Maria
behind hers, Tom on his way."""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from crm_core.domain.targets import month_bounds, month_of
from crm_core.domain.users import User
from crm_core.services import Crm
from crm_core.services.fields import fields_spec_from_document
from crm_core.services.funnel import funnels_spec_from_document
from kanbot.demo import catalog
from kanbot.demo.team import ALI, MARIA, TOM, DemoUser
from kanbot.demo.words import say

RENEWALS = "Renewals"
# What a team writes in its funnel file (docs/cli.md) next to the default pipeline, as YAML would read.
RENEWALS_PIPELINE: dict[str, Any] = {
    "pipeline": RENEWALS,
    "stages": [
        {
            "name": "Renewal due",
            "kind": "inbox",
            "follow_up": "1d",
            "playbook": "Call the customer before the contract ends",
            "probability": 30,
        },
        {
            "name": "Quote sent",
            "kind": "open",
            "follow_up": "3d",
            "playbook": "Agree on the terms for the next year",
            "probability": 60,
        },
        {
            "name": "Invoice",
            "kind": "open",
            "follow_up": "5d",
            "playbook": "Get the renewal invoice paid",
            "probability": 85,
        },
        {
            "name": "Renewed",
            "kind": "won",
            "playbook": "Thank them and note the next renewal date",
            "probability": 100,
        },
        {"name": "Churned", "kind": "lost", "playbook": "Note why they left", "probability": 0},
    ],
}
CITIES = {
    "dubai": "Dubai",
    "abu_dhabi": "Abu Dhabi",
    "moscow": "Moscow",
    "spb": "Saint Petersburg",
    "london": "London",
    "manchester": "Manchester",
}
LEAD_SOURCES = ("Referral", "Exhibition", "Cold call", "Partner", "Website")
FIELDS: list[dict[str, Any]] = [
    {
        "key": "city",
        "entity": "deal",
        "type": "choice",
        "names": {"en": "City", "ru": "Город", "ar": "المدينة"},
        "choices": list(CITIES.values()),
        "required_from": "Commercial offer",
    },
    {
        "key": "lead_source",
        "entity": "deal",
        "type": "choice",
        "names": {"en": "Lead source", "ru": "Источник лида", "ar": "مصدر العميل"},
        "choices": list(LEAD_SOURCES),
    },
    {
        "key": "company_size",
        "entity": "contact",
        "type": "number",
        "names": {"en": "Company size", "ru": "Размер компании", "ar": "حجم الشركة"},
    },
]
COMPANY_SIZES = (12, 25, 40, 80, 150, 300, 600)
THOUSAND = Decimal(1000)
Action = Callable[[], Awaitable[None]]
Plan = Callable[[datetime, Action], None]


async def apply_funnel_file(crm: Crm) -> None:
    """The team's funnel file, applied as `kanbot pipeline apply` does: the default pipeline as it is,
    then Renewals, and the team's own fields (checked before anything changes)."""
    default = await crm.pipelines.document()
    document = {
        "pipelines": [
            {"pipeline": default["pipeline"], "default": True, "stages": default["stages"]},
            RENEWALS_PIPELINE,
        ],
        "lost_reasons": default["lost_reasons"],
        "fields": FIELDS,
    }
    fields = fields_spec_from_document(document)
    assert fields is not None
    await crm.fields.check(fields)
    await crm.pipelines.apply(funnels_spec_from_document(document))
    await crm.fields.apply(fields)


def deal_fields(customer: catalog.Customer) -> dict[str, str]:
    """The team's own fields a seller fills in for a customer: where it is, how it found the team, and
    how big it is (the same customer always gets the same answers)."""
    mark = zlib.crc32(customer.company.encode())
    return {
        "city": CITIES[customer.region],
        "lead_source": LEAD_SOURCES[mark % len(LEAD_SOURCES)],
        "company_size": str(COMPANY_SIZES[(mark >> 8) % len(COMPANY_SIZES)]),
    }


@dataclass(slots=True)
class _Renewal:
    """A renewal deal of the demo: what is done to it; its id is known once it was created."""

    crm: Crm
    seller: User
    title: str
    amount: str
    fields: dict[str, str]
    id: int = 0

    async def create(self) -> None:
        deal = await self.crm.deals.create(
            actor=self.seller, title=self.title, amount=self.amount, pipeline=RENEWALS, fields=self.fields
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
        city = {"city": CITIES[customer.region]}  # a renewal is no new lead: no lead source
        return _Renewal(crm, users[seller.name], title, amount, city)

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
