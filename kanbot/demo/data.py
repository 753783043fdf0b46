"""``generate``: a demo world made through the real services, on a clock walked through two months.

Every deal, move, note, task and call goes through ``Crm`` exactly as the chat or a PBX would do it;
only the clock is ours. Each action is planned at its moment first, then all of them run in time
order, so ids, history and reports look like two months of real work that ends now.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Awaitable, Callable, Container
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from crm_core.domain.calls import CallDirection, CallEvent, CallStatus, IngestOutcome
from crm_core.domain.deals import Priority
from crm_core.domain.phones import to_e164, try_e164
from crm_core.domain.tasks import TaskKind
from crm_core.domain.users import User
from crm_core.ports import FixedClock
from crm_core.services import Crm
from kanbot.demo import catalog, sales_plan
from kanbot.demo.catalog import Customer
from kanbot.demo.scenario import SCENARIO, Clockwork, Fate, quarter
from kanbot.demo.team import MAIN_LINE, OLGA, SELLERS, DemoUser, team
from kanbot.demo.words import say

DEMO_SEED = 2026
PROVIDER = "demo-pbx"
Action = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What the demo database holds, for the banner and the tests."""

    deals: int
    won: int
    lost: int
    open: int
    unassigned: int
    stale: int
    open_tasks: int
    calls: int
    since: datetime


@dataclass(slots=True)
class _DealRef:
    """A planned deal; its id is known once its first step has run."""

    owner: DemoUser
    id: int = 0


@dataclass(order=True, slots=True)
class _Step:
    at: datetime
    seq: int
    action: Action = field(compare=False)


async def generate(
    crm: Crm,
    clock: FixedClock,
    *,
    now: datetime | None = None,
    seed: int = DEMO_SEED,
    lang: str | None = None,
) -> DemoSummary:
    """Fill an empty, migrated database with the demo team and two months of deals ending ``now``:
    what each person types in their own language, or everyone in ``lang`` (and speaking it)."""
    if crm.clock is not clock:
        raise ValueError("the CRM must run on the clock the demo walks")
    world = _World(crm, clock, now or datetime.now(UTC), seed, lang)
    return await world.build()


class _World:
    def __init__(self, crm: Crm, clock: FixedClock, now: datetime, seed: int, lang: str | None) -> None:
        self.crm, self.clock, self.now, self.lang = crm, clock, now, lang
        self.rng = random.Random(seed)
        self.times = Clockwork(self.rng, now)
        self.steps: list[_Step] = []
        self.users: dict[str, User] = {}
        self.phones: set[str] = set()
        self.calls = 0

    def at(self, moment: datetime, action: Action) -> None:
        self.steps.append(_Step(min(moment, self.now), len(self.steps), action))

    async def build(self) -> DemoSummary:
        self.clock.current = self.now - timedelta(days=61)
        await self.crm.pipelines.seed_defaults()
        for person in team(self.lang):
            self.users[person.name] = await self.crm.users.add(
                telegram_id=person.telegram_id,
                name=person.name,
                role=person.role,
                extensions=(person.extension,) if person.extension else (),
                timezone=person.timezone,
                locale=person.locale,
            )
        customers = {
            "Ali": catalog.ALI_CUSTOMERS,
            "Maria": catalog.MARIA_CUSTOMERS,
            "Tom": catalog.TOM_CUSTOMERS,
        }
        for seller in SELLERS:
            for index, (customer, fate) in enumerate(
                zip(customers[seller.name], SCENARIO[seller.name], strict=True)
            ):
                self.plan_deal(seller, customer, fate, oldest=seller is SELLERS[0] and index == 0)
        for hours_ago, lead in zip((26, 5, 0.8), catalog.WEBSITE_LEADS, strict=True):
            self.plan_lead(lead, self.now - timedelta(hours=hours_ago))
        await sales_plan.apply_funnel_file(self.crm)
        sales_plan.plan_renewals(self.crm, self.users, self.now, self.lang, self.at)
        for step in sorted(self.steps):
            self.clock.current = step.at
            await step.action()
        self.clock.current = self.now
        await sales_plan.set_targets(self.crm, self.users[OLGA.name])
        await self._settle_outbox()
        return await self._summary()

    # -- planning ----------------------------------------------------------------------------

    def plan_deal(self, seller: DemoUser, customer: Customer, fate: Fate, *, oldest: bool) -> None:
        line = self.times.timeline(fate, ZoneInfo(seller.timezone), oldest=oldest)
        deal, times, phone = _DealRef(seller), line.times, self.new_phone(customer.region)
        created, last = times[0], times[-1]
        self.plan_creation(deal, customer, fate, phone, created, line.start)
        moves = times[1:-1] if fate.lost else times[1:]
        for moment in moves:
            if self.rng.random() < 0.35:
                self.at(moment - timedelta(minutes=45), self.customer_calls(deal, phone, answered=True))
            elif self.rng.random() < 0.15:
                self.at(moment - timedelta(hours=3), self.customer_calls(deal, phone, answered=False))
                self.at(moment - timedelta(hours=2), self.call_back(deal))
            self.at(moment, self.move_on(deal))
            if self.rng.random() < 0.3:
                self.at(moment + timedelta(minutes=10), self.note(deal, seller))
        if fate.lost:
            assert fate.reason is not None
            self.at(last, self.lose(deal, fate.reason))
            self.at(last + timedelta(minutes=5), self.note(deal, seller, catalog.LOST_NOTES[fate.reason]))
        if fate.end == "Won" and oldest:
            self.at(last + timedelta(minutes=30), self.note(deal, OLGA, catalog.BOSS_NOTES[2]))
        if fate.high:
            self.at(created + timedelta(minutes=6), self.prioritise(deal))
            self.at(last + timedelta(minutes=12), self.note(deal, OLGA, catalog.BOSS_NOTES[0]))
        if fate.task:
            self.plan_task(deal, seller, fate.task, last + timedelta(minutes=15))

    def plan_creation(
        self, deal: _DealRef, customer: Customer, fate: Fate, phone: str, moment: datetime, stage: str
    ) -> None:
        if fate.origin == "manual":
            by_boss = self.rng.random() < 0.25
            self.at(moment, self.create(deal, customer, phone, stage, by_boss=by_boss))
            return
        answered = fate.origin == "call"
        self.at(moment, self.new_caller(deal, phone, answered=answered))
        if fate.minutes_ago is not None and not answered:
            return  # a missed call nobody has returned yet: it is still a phone number
        if not answered:
            self.at(moment + timedelta(minutes=35), self.call_back(deal))
        self.at(moment + timedelta(minutes=38 if not answered else 4), self.describe(deal, customer))

    def plan_task(self, deal: _DealRef, seller: DemoUser, when: str, moment: datetime) -> None:
        texts = catalog.TASKS[seller.locale]
        text = say(texts[self.rng.randrange(len(texts))], self.language(seller))
        tz = ZoneInfo(seller.timezone)
        if when == "today":
            due = self.times.due_today(tz)
        elif when == "soon":
            due = self.times.office_hours(
                self.now.astimezone(tz).date() + timedelta(days=self.rng.randint(1, 3)), tz
            )
        else:
            due = quarter(moment + timedelta(days=1))
        self.at(moment, self.add_task(deal, text, due))

    def plan_lead(self, lead: Customer, moment: datetime) -> None:
        phone = self.new_phone(lead.region)
        lang = self.lang or catalog.REGION_LANGUAGE[lead.region]  # typed by the customer on the website

        async def run() -> None:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(["title", "contact_name", "phone", "city", "lead_source"])
            city = sales_plan.CITIES[lead.region]
            writer.writerow([lead.title_in(lang), lead.contact_in(lang), phone, city, "Website"])
            await self.crm.transfer.import_csv(buffer.getvalue())

        self.at(moment, run)

    def language(self, person: DemoUser) -> str:
        """The language ``person`` types in: their own, or the one the demo was asked to speak."""
        return self.lang or person.locale

    def new_phone(self, region: str) -> str:
        number = random_phone(self.rng, region, taken=self.phones)
        self.phones.add(number)
        return number

    def amount(self) -> str:
        return f"{self.rng.randint(9, 450) * 100 + self.rng.randint(0, 99)}.{self.rng.randint(0, 99):02d}"

    # -- actions: each one is what a user (or the PBX) does at that moment ---------------------

    def create(self, deal: _DealRef, customer: Customer, phone: str, stage: str, *, by_boss: bool) -> Action:
        amount = self.amount()
        lang = self.language(deal.owner)  # the customer as the seller knows them, whoever types it

        async def run() -> None:
            actor = self.users[OLGA.name if by_boss else deal.owner.name]
            created = await self.crm.deals.create(
                actor=actor,
                title=customer.title_in(lang),
                contact_name=customer.contact_in(lang),
                phone=phone,
                amount=Decimal(amount),
                stage=stage,
                owner_telegram_id=deal.owner.telegram_id,
                fields=sales_plan.deal_fields(customer),
            )
            deal.id = created.id

        return run

    def new_caller(self, deal: _DealRef, phone: str, *, answered: bool) -> Action:
        async def run() -> None:
            outcome = await self.ingest(phone, deal.owner, answered=answered)
            assert outcome.deal_id is not None and outcome.created, outcome
            deal.id = outcome.deal_id

        return run

    def customer_calls(self, deal: _DealRef, phone: str, *, answered: bool) -> Action:
        async def run() -> None:
            outcome = await self.ingest(phone, deal.owner, answered=answered)
            assert outcome.deal_id == deal.id, (outcome, deal)

        return run

    def call_back(self, deal: _DealRef) -> Action:
        async def run() -> None:
            seller = self.users[deal.owner.name]
            for task in await self.crm.tasks.open_tasks(actor=seller):
                if task.deal_id == deal.id and task.kind is TaskKind.CALL_BACK:
                    await self.crm.tasks.complete(task_id=task.id, actor=seller)

        return run

    def describe(self, deal: _DealRef, customer: Customer) -> Action:
        """What a seller types after the first call: who it is, what they want, for how much."""
        amount = self.amount()
        lang = self.language(deal.owner)

        async def run() -> None:
            seller = self.users[deal.owner.name]
            for field_name, value in (
                ("title", customer.title_in(lang)),
                ("contact", customer.contact_in(lang)),
                ("amount", amount),
            ):
                await self.crm.deals.edit(deal_id=deal.id, field=field_name, value=value, actor=seller)
            await self.crm.deals.set_fields(
                deal_id=deal.id, changes=sales_plan.deal_fields(customer), actor=seller
            )

        return run

    def move_on(self, deal: _DealRef) -> Action:
        async def run() -> None:
            await self.crm.deals.move_next(deal_id=deal.id, actor=self.users[deal.owner.name])

        return run

    def lose(self, deal: _DealRef, reason: str) -> Action:
        async def run() -> None:
            await self.crm.deals.mark_lost(deal_id=deal.id, reason=reason, actor=self.users[deal.owner.name])

        return run

    def note(self, deal: _DealRef, author: DemoUser, text: str | None = None) -> Action:
        notes = catalog.NOTES[author.locale]
        body = say(text or notes[self.rng.randrange(len(notes))], self.language(author))

        async def run() -> None:
            await self.crm.deals.add_note(deal_id=deal.id, text=body, actor=self.users[author.name])

        return run

    def prioritise(self, deal: _DealRef) -> Action:
        async def run() -> None:
            seller = self.users[deal.owner.name]
            await self.crm.deals.set_priority(deal_id=deal.id, priority=Priority.HIGH, actor=seller)

        return run

    def add_task(self, deal: _DealRef, text: str, due: datetime) -> Action:
        async def run() -> None:
            await self.crm.tasks.add(
                deal_id=deal.id, due_at=due, text=text, actor=self.users[deal.owner.name]
            )

        return run

    async def ingest(self, caller: str, seller: DemoUser, *, answered: bool) -> IngestOutcome:
        """An inbound call to the main line, reported by the PBX when it ends."""
        self.calls += 1
        now = self.clock.now()
        ring = timedelta(seconds=self.rng.randint(4, 25))
        talk = self.rng.randint(40, 540) if answered else 0
        started = now - ring - timedelta(seconds=talk)
        extension = seller.extension
        assert extension is not None
        return await self.crm.calls.ingest_call(
            CallEvent(
                call_id=f"history-{self.calls:04d}",
                provider=PROVIDER,
                direction=CallDirection.INBOUND,
                status=CallStatus.ANSWERED if answered else CallStatus.MISSED,
                caller=caller,
                dialed=_e164(MAIN_LINE),
                started_at=started,
                rang=(extension,),
                answered_by=extension if answered else None,
                answered_at=started + ring if answered else None,
                ended_at=now,
                duration_s=talk,
            )
        )

    # -- the end -------------------------------------------------------------------------------

    async def _settle_outbox(self) -> None:
        """The history's notifications belong to the past: count them delivered, so chats start clean."""
        async with self.crm.db.uow() as uow:
            while items := await uow.outbox.claim(
                now=self.now, limit=500, lease=timedelta(minutes=5), per_recipient=500
            ):
                for item in items:
                    await uow.outbox.mark_sent(item.id, at=self.now)
            await uow.commit()

    async def _summary(self) -> DemoSummary:
        boss = self.users[OLGA.name]
        deals = await self.crm.deals.list_deals(actor=boss)
        kinds = [d.stage.kind.value for d in deals]
        return DemoSummary(
            deals=len(deals),
            won=kinds.count("won"),
            lost=kinds.count("lost"),
            open=len(deals) - kinds.count("won") - kinds.count("lost"),
            unassigned=sum(1 for d in deals if d.owner is None),
            stale=len(await self.crm.deals.stale(actor=boss)),
            open_tasks=len(await self.crm.tasks.open_tasks(actor=boss, everyone=True)),
            calls=self.calls,
            since=min(d.created_at for d in deals),
        )


def random_phone(rng: random.Random, region: str, *, taken: Container[str] = ()) -> str:
    """A valid E.164 number in ``region`` (see ``catalog.PHONE_PLANS``) that is not in ``taken``."""
    prefix, digits = catalog.PHONE_PLANS[region]
    while True:
        first = rng.choice("378") if region == "london" else str(rng.randint(2, 8))
        number = prefix + first + "".join(str(rng.randint(0, 9)) for _ in range(digits - 1))
        if number not in taken and try_e164(number, region="ZZ") == number:
            return number


def _e164(number: str) -> str:
    return to_e164(number, region="ZZ")
