"""Who may see and do what, enforced by the core: every service against each role and others' deals.

A seller sees and changes only their own deals, and may take unassigned deals from the inbox; a boss
sees everything, reassigns, configures and gets every report. A deal a seller may not see is refused
exactly as a deal that does not exist, and the refusal changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from crm_core.domain.deals import Priority
from crm_core.domain.errors import Conflict, DealNotFound, NotAllowed, NotFound
from crm_core.domain.users import Role, User
from crm_core.ports import FixedClock
from crm_core.reports import Period
from crm_core.services import Crm
from crm_core.services.funnel import funnel_spec_from_document
from tests.integration.support import Team, stored

OK = "ok"


@dataclass(frozen=True)
class World:
    team: Team
    alices_deal: int  # Opportunity, Alice's, with an open task of hers
    alices_task: int
    bobs_deal: int  # Opportunity, Bob's
    unassigned_inbox: int  # Unsorted, nobody's
    unassigned_elsewhere: int  # Opportunity, nobody's

    def actor(self, who: str) -> User:
        return {"boss": self.team.boss, "owner": self.team.alice, "other seller": self.team.bob}[who]

    def deal(self, which: str) -> int:
        return {
            "alice's": self.alices_deal,
            "unassigned inbox": self.unassigned_inbox,
            "unassigned elsewhere": self.unassigned_elsewhere,
            "missing": 99_999,
        }[which]


@pytest.fixture
async def world(crm: Crm, team: Team, clock: FixedClock) -> World:
    alices = await crm.deals.create(actor=team.alice, title="Alice's", stage="Opportunity", amount="100")
    task = await crm.tasks.add(
        deal_id=alices.id, due_at=clock.now() + timedelta(days=1), text="Call", actor=team.alice
    )
    bobs = await crm.deals.create(actor=team.bob, title="Bob's", stage="Opportunity", amount="200")
    inbox = await crm.deals.create(actor=team.boss, title="Walk-in")
    await crm.deals.reassign(deal_id=inbox.id, owner_telegram_id=None, actor=team.boss)
    elsewhere = await crm.deals.create(actor=team.boss, title="Orphan", stage="Opportunity")
    await crm.deals.reassign(deal_id=elsewhere.id, owner_telegram_id=None, actor=team.boss)
    return World(team, alices.id, task.id, bobs.id, inbox.id, elsewhere.id)


Operation = Callable[[Crm, User, int, FixedClock, World], Awaitable[Any]]

DEAL_SERVICES: dict[str, Operation] = {
    "get": lambda crm, actor, deal, clock, w: crm.deals.get(deal_id=deal, actor=actor),
    "details": lambda crm, actor, deal, clock, w: crm.deals.details(deal_id=deal, actor=actor),
    "history": lambda crm, actor, deal, clock, w: crm.deals.history(deal_id=deal, actor=actor),
    "move": lambda crm, actor, deal, clock, w: crm.deals.move(
        deal_id=deal, to_stage="Commercial offer", actor=actor
    ),
    "move_next": lambda crm, actor, deal, clock, w: crm.deals.move_next(deal_id=deal, actor=actor),
    "move_previous": lambda crm, actor, deal, clock, w: (
        crm.deals.move_previous(deal_id=deal, actor=actor)
        if deal != w.unassigned_inbox
        else crm.deals.move_next(deal_id=deal, actor=actor)
    ),
    "mark_won": lambda crm, actor, deal, clock, w: crm.deals.mark_won(deal_id=deal, actor=actor),
    "mark_lost": lambda crm, actor, deal, clock, w: crm.deals.mark_lost(
        deal_id=deal, reason="Price", actor=actor
    ),
    "add_note": lambda crm, actor, deal, clock, w: crm.deals.add_note(deal_id=deal, text="Hi", actor=actor),
    "set_priority": lambda crm, actor, deal, clock, w: crm.deals.set_priority(
        deal_id=deal, priority=Priority.HIGH, actor=actor
    ),
    "snooze": lambda crm, actor, deal, clock, w: crm.deals.snooze(
        deal_id=deal, until=clock.now() + timedelta(days=1), actor=actor
    ),
    "edit": lambda crm, actor, deal, clock, w: crm.deals.edit(
        deal_id=deal, field="title", value="Renamed", actor=actor
    ),
    "add_task": lambda crm, actor, deal, clock, w: crm.tasks.add(
        deal_id=deal, due_at=clock.now() + timedelta(hours=1), text="Follow up", actor=actor
    ),
    "calls": lambda crm, actor, deal, clock, w: crm.calls.of_deal(deal_id=deal, actor=actor),
    "reassign": lambda crm, actor, deal, clock, w: crm.deals.reassign(
        deal_id=deal, owner_telegram_id=203, actor=actor
    ),
    "take": lambda crm, actor, deal, clock, w: crm.deals.take(deal_id=deal, actor=actor),
}
READS = {"get", "details", "history", "calls"}


def expected(service: str, who: str, which: str) -> object:
    """The outcome the rules promise for ``who`` using ``service`` on ``which`` deal."""
    if which == "missing":
        return NotAllowed if service == "reassign" and who != "boss" else DealNotFound
    if service == "reassign" and who != "boss":
        return NotAllowed  # only bosses reassign, whoever's deal it is
    if who == "boss":
        return Conflict if service == "take" and which == "alice's" else OK
    if which == "unassigned elsewhere" or (which == "alice's" and who == "other seller"):
        return DealNotFound  # not theirs to see: the same as a deal that does not exist
    if which == "alice's":  # the owner
        return Conflict if service == "take" else OK
    # any seller and an unassigned inbox deal: they see it and may take it, nothing else before that
    return OK if service in READS | {"take"} else NotAllowed


CASES = [
    pytest.param(service, who, which, expected(service, who, which), id=f"{service}-{who}-{which}")
    for service in DEAL_SERVICES
    for which in ("alice's", "unassigned inbox", "unassigned elsewhere", "missing")
    for who in (("boss", "owner", "other seller") if which == "alice's" else ("boss", "other seller"))
]


@pytest.mark.parametrize(("service", "who", "which", "outcome"), CASES)
async def test_every_deal_service_follows_the_access_rules(
    crm: Crm, world: World, clock: FixedClock, service: str, who: str, which: str, outcome: object
) -> None:
    deal_id, actor = world.deal(which), world.actor(who)
    before = await stored(crm, deal_id) if which != "missing" else None
    call = DEAL_SERVICES[service]
    if outcome == OK:
        await call(crm, actor, deal_id, clock, world)
        return
    assert isinstance(outcome, type)
    with pytest.raises(outcome) as refusal:
        await call(crm, actor, deal_id, clock, world)
    if outcome is DealNotFound:
        assert str(refusal.value) == f"No deal {deal_id} was found."  # word for word as for a missing deal
    if before is not None:
        assert await stored(crm, deal_id) == before


@pytest.mark.parametrize(("who", "outcome"), [("boss", OK), ("owner", OK), ("other seller", NotFound)])
@pytest.mark.parametrize("service", ["get", "complete", "postpone"])
async def test_a_task_is_reachable_only_by_whoever_may_see_its_deal(
    crm: Crm, world: World, clock: FixedClock, service: str, who: str, outcome: object
) -> None:
    actor = world.actor(who)
    calls = {
        "get": lambda: crm.tasks.get(task_id=world.alices_task, actor=actor),
        "complete": lambda: crm.tasks.complete(task_id=world.alices_task, actor=actor),
        "postpone": lambda: crm.tasks.postpone(
            task_id=world.alices_task, until=clock.now() + timedelta(days=3), actor=actor
        ),
    }
    before = await stored(crm, world.alices_deal)
    if outcome == OK:
        await calls[service]()
        return
    with pytest.raises(NotFound) as refusal:
        await calls[service]()
    assert str(refusal.value) == f"No task {world.alices_task} was found."
    assert await stored(crm, world.alices_deal) == before


VISIBLE = {
    "boss": {"Alice's", "Bob's", "Walk-in", "Orphan"},
    "owner": {"Alice's", "Walk-in"},
    "other seller": {"Bob's", "Walk-in"},
}


@pytest.mark.parametrize("who", ["boss", "owner", "other seller"])
async def test_lists_boards_searches_and_stale_deals_show_only_what_the_actor_may_see(
    crm: Crm, world: World, clock: FixedClock, who: str
) -> None:
    actor = world.actor(who)
    assert {d.title for d in await crm.deals.list_deals(actor=actor)} == VISIBLE[who]
    _, page = await crm.deals.column(stage="Opportunity", actor=actor, limit=50)
    assert {d.title for d in page.items} == VISIBLE[who] - {"Walk-in"}
    board = await crm.deals.board(actor=actor)  # a seller's unassigned inbox is beside their count
    assert sum(c.count + c.unassigned for c in board.columns) == len(VISIBLE[who])
    found = {d.title for d in await crm.deals.find(query="'", actor=actor)}  # "Alice's", "Bob's"
    assert found == VISIBLE[who] & {"Alice's", "Bob's"}
    clock.advance(timedelta(days=30))  # every open deal is long past its follow-up by now
    assert {d.title for d in await crm.deals.stale(actor=actor)} == VISIBLE[who]


async def test_a_seller_cannot_filter_by_another_sellers_deals(crm: Crm, world: World) -> None:
    bob = world.team.bob
    for look in (
        lambda: crm.deals.list_deals(actor=bob, owner_telegram_id=201),
        lambda: crm.deals.board(actor=bob, owner_telegram_id=201),
        lambda: crm.deals.column(stage="Opportunity", actor=bob, owner_telegram_id=201),
        lambda: crm.deals.stale(actor=bob, owner_telegram_id=201),
    ):
        with pytest.raises(NotAllowed):
            await look()
    assert {d.title for d in await crm.deals.list_deals(actor=bob, owner_telegram_id=202)} == {"Bob's"}
    assert {d.title for d in await crm.deals.list_deals(actor=world.team.boss, owner_telegram_id=201)} == {
        "Alice's"
    }


async def test_a_seller_may_create_deals_only_for_themselves(crm: Crm, world: World) -> None:
    with pytest.raises(NotAllowed):
        await crm.deals.create(actor=world.team.bob, title="For Alice", owner_telegram_id=201)
    mine = await crm.deals.create(actor=world.team.bob, title="Mine", owner_telegram_id=202)
    theirs = await crm.deals.create(actor=world.team.boss, title="For Alice", owner_telegram_id=201)
    assert (mine.owner_id, theirs.owner_id) == (world.team.bob.id, world.team.alice.id)


async def test_a_seller_sees_only_their_own_tasks_and_a_boss_everyones(
    crm: Crm, world: World, clock: FixedClock
) -> None:
    await crm.tasks.add(
        deal_id=world.bobs_deal,
        due_at=clock.now() + timedelta(hours=2),
        text="Bob's call",
        actor=world.team.bob,
    )
    assert [t.text for t in await crm.tasks.open_tasks(actor=world.team.bob)] == ["Bob's call"]
    with pytest.raises(NotAllowed):
        await crm.tasks.open_tasks(actor=world.team.bob, everyone=True)
    assert [t.text for t in await crm.tasks.open_tasks(actor=world.team.boss, everyone=True)] == [
        "Bob's call",
        "Call",
    ]  # by due time
    with pytest.raises(NotAllowed):
        await crm.tasks.add(
            deal_id=world.alices_deal,
            due_at=clock.now() + timedelta(hours=1),
            text="Yours",
            actor=world.team.alice,
            assignee_telegram_id=202,
        )


REPORTS: dict[str, Callable[[Crm, User, Period, int | None], Awaitable[Any]]] = {
    "funnel": lambda crm, actor, period, seller: crm.reports.funnel(actor=actor, seller_telegram_id=seller),
    "flow": lambda crm, actor, period, seller: crm.reports.flow(
        actor=actor, period=period, seller_telegram_id=seller
    ),
    "conversion": lambda crm, actor, period, seller: crm.reports.conversion(
        actor=actor, period=period, seller_telegram_id=seller
    ),
    "velocity": lambda crm, actor, period, seller: crm.reports.velocity(
        actor=actor, period=period, seller_telegram_id=seller
    ),
    "sellers": lambda crm, actor, period, seller: crm.reports.sellers(
        actor=actor, period=period, seller_telegram_id=seller
    ),
    "activity": lambda crm, actor, period, seller: crm.reports.activity(
        actor=actor, period=period, seller_telegram_id=seller
    ),
}


@pytest.mark.parametrize("report", REPORTS)
async def test_a_seller_cannot_ask_for_another_sellers_figures(crm: Crm, world: World, report: str) -> None:
    period = crm.reports.default_period()
    with pytest.raises(NotAllowed):
        await REPORTS[report](crm, world.team.bob, period, 201)
    await REPORTS[report](crm, world.team.bob, period, 202)  # their own, named, is fine
    await REPORTS[report](crm, world.team.boss, period, 201)
    with pytest.raises(NotFound):
        await REPORTS[report](crm, world.team.boss, period, 999)


@pytest.mark.parametrize(
    ("who", "seller", "count"),
    [("boss", None, 4), ("boss", 201, 1), ("owner", None, 1), ("other seller", None, 1)],
)
async def test_reports_cover_the_deals_the_actor_may_report_on(
    crm: Crm, world: World, clock: FixedClock, who: str, seller: int | None, count: int
) -> None:
    clock.advance(timedelta(minutes=1))  # periods end before "now": [from, to)
    snapshot = await crm.reports.funnel(actor=world.actor(who), seller_telegram_id=seller)
    assert snapshot.count == count
    activity = await crm.reports.activity(
        actor=world.actor(who), period=crm.reports.default_period(), seller_telegram_id=seller
    )
    assert activity.new_deals == count


async def test_only_a_boss_manages_the_team(crm: Crm, world: World) -> None:
    bob, boss = world.team.bob, world.team.boss
    with pytest.raises(NotAllowed):
        await crm.users.add(telegram_id=300, name="New", role=Role.SELLER, actor=bob)
    with pytest.raises(NotAllowed):
        await crm.users.deactivate(telegram_id=201, actor=bob)
    with pytest.raises(NotAllowed):
        await crm.users.set_extensions(telegram_id=202, extensions=("555",), actor=bob)
    assert [u.name for u in await crm.users.list(actor=bob)] == ["Bob"]
    assert len(await crm.users.list(actor=boss)) == 4
    await crm.users.add(telegram_id=300, name="New", role=Role.SELLER, actor=boss)
    assert (await crm.users.identify(201)).active


async def test_only_a_boss_configures_the_funnel_or_exports_deals(crm: Crm, world: World) -> None:
    document = await crm.pipelines.document(actor=world.team.bob)  # anyone may look at it
    spec = funnel_spec_from_document(document)
    with pytest.raises(NotAllowed):
        await crm.pipelines.apply(spec, actor=world.team.bob)
    with pytest.raises(NotAllowed):
        await crm.transfer.export_csv(actor=world.team.bob)
    await crm.pipelines.apply(spec, actor=world.team.boss)
    assert len(list(await crm.transfer.export_csv(actor=world.team.boss))) == 1 + 4


@pytest.mark.parametrize("missing", [0, -1, 2**31, 2**63, 10**30])
async def test_an_id_no_record_could_have_is_just_not_found(crm: Crm, world: World, missing: int) -> None:
    boss = world.team.boss
    with pytest.raises(DealNotFound):
        await crm.deals.get(deal_id=missing, actor=boss)
    with pytest.raises(DealNotFound):
        await crm.deals.move(deal_id=missing, to_stage="Won", actor=boss)
    with pytest.raises(NotFound):
        await crm.tasks.complete(task_id=missing, actor=boss)
