"""The funnel as a state machine: random create, move, win, lose, reopen, reassign, take, snooze and
edits by a boss and two sellers — and two users writing the same version at once, and a day and more
passing — against the real services and database, checked after every step against a model and
against the deals' own history.

Invariants: the outcome of every action is the model's (done, or refused with the same error); each
deal is in exactly one stage of its pipeline; a closed deal reopens only in the stage it was closed
from; a move back to the stage just left within a day undoes the move, and a reopen within a day of
the close undoes the close (the deal is in its stage since it first entered it), later ones do not;
``closed_at`` is set exactly for won and lost deals (and is the time of the closing event); the
history replays to the deal (stage, owner, amount, title, currency, priority, lost reason, snooze,
closed, and each undo pointing at the change it undid); the version counts the history; the board
and the reports' counts and sums equal the deals'.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from crm_core.adapters.database import Database
from crm_core.config import CrmConfig
from crm_core.domain.deals import Deal, Priority
from crm_core.domain.errors import (
    Conflict,
    CrmError,
    DealClosed,
    DealNotFound,
    InvalidInput,
    NotAllowed,
    ReopensElsewhere,
    StaleVersion,
)
from crm_core.domain.funnel import Pipeline, Stage, StageKind
from crm_core.domain.history import DealEvent, EventKind
from crm_core.domain.users import Role, User
from crm_core.services import Crm
from tests.conftest import T0, _truncate
from tests.reliability.nothing_lost import TALLY

# Runs of the machine: a few in ``make test`` (a smoke test of the rules), many in ``make reliability``.
QUICK = {"sqlite": 10, "postgresql": 4}
LONG = int(os.environ.get("KANBOT_FUNNEL_EXAMPLES", "300"))
SUMS_EVERY = 5  # steps between checks of the board's and the reports' sums (and at each run's end)


def machine_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


CENT = Decimal("0.01")
MAX_DEALS = 4
PICK = st.integers(0, 63)
ACTORS = st.integers(0, 2)
# Who acts on a deal: its owner most of the time (so that most actions go through), else anyone.
DEAL_ACTORS = st.sampled_from(["owner", "owner", "owner", "boss", "ali", "maria"])
titles = st.sampled_from(["ACME", "Globex PBX", "شركة الأمل", "Рога и копыта", "<b>Tags</b> & co", "🚀 x"])
amounts = st.one_of(
    st.none(),
    st.decimals(min_value=Decimal("0.01"), max_value=10**9, places=2).map(lambda d: d.quantize(CENT)),
)


class SteppingClock:
    """The CRM's time: a minute later at every look, so every event has its own moment."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        self.moment += timedelta(minutes=1)
        return self.moment


@dataclass(frozen=True)
class Change:
    """A stage change still standing, as the model remembers it: what undoing it would go back to."""

    kind: str  # "move", "close", or "start" (a reopen that undid nothing: nothing before it is undone)
    from_stage: int | None
    to_stage: int | None
    at: datetime | None
    entered_before: datetime | None


@dataclass(frozen=True)
class Expected:
    """What the model says a deal is."""

    stage: Stage
    owner_id: int | None
    title: str
    amount: Decimal | None
    version: int
    lost_reason: str | None = None
    snoozed: bool = False
    priority: Priority = Priority.NORMAL
    closed_from: int | None = None  # a closed deal: the stage it reopens in
    entered: datetime | None = None  # when it entered its stage (set once the change is done)
    changes: tuple[Change, ...] = ()  # its stage changes still standing, oldest first


UNDO_WINDOW = timedelta(hours=24)


@dataclass
class Backend:
    """Where each run's fresh database comes from (set by the test before the machine runs)."""

    sqlite_template: Path | None = None
    postgres_url: str | None = None

    async def fresh(self, tmp: Path) -> str:
        if self.postgres_url is not None:
            await _truncate(self.postgres_url)
            return self.postgres_url
        assert self.sqlite_template is not None
        target = tmp / "funnel.db"
        shutil.copyfile(self.sqlite_template, target)
        return f"sqlite+aiosqlite:///{target}"


BACKEND = Backend()


class FunnelMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp(prefix="funnel-"))
        self.model: dict[int, Expected] = {}
        self.clock = SteppingClock(T0)
        self.writes = 0
        self.checks = 0
        self.touched: set[int] = set()  # deals changed (or refused) since the last check

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        async def close() -> None:
            try:
                if self.model:
                    await self._check_sums(
                        {d.id: d for d in await self.crm_a.deals.list_deals(actor=self.boss)}
                    )
            finally:
                await self.db_a.dispose()
                await self.db_b.dispose()

        try:
            if hasattr(self, "db_a"):
                self.run(close())
        finally:
            self.loop.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    @initialize()
    def setup(self) -> None:
        TALLY.cases += 1
        url = self.run(BACKEND.fresh(self.tmp))
        config = CrmConfig(default_region="RU", default_currency="RUB")
        # Two CRMs on two engines: two processes (or two users' requests) reading the same rows.
        self.db_a, self.db_b = Database(url), Database(url)
        self.crm_a = Crm(self.db_a, clock=self.clock, config=config)
        self.crm_b = Crm(self.db_b, clock=self.clock, config=config)

        async def scene() -> tuple[Pipeline, list[User]]:
            await self.crm_a.pipelines.seed_defaults()
            boss = await self.crm_a.users.ensure_boss(telegram_id=100, name="Olga")
            ali = await self.crm_a.users.add(telegram_id=201, name="Ali", role=Role.SELLER)
            maria = await self.crm_a.users.add(telegram_id=202, name="Maria", role=Role.SELLER)
            board = await self.crm_a.deals.board(actor=boss)
            return board.pipeline, [boss, ali, maria]

        self.pipeline: Pipeline
        self.users: list[User]
        self.pipeline, self.users = self.run(scene())
        self.boss = self.users[0]

    # -- the model's rules ---------------------------------------------------------------------

    def choose(self, n: int, prefer: Callable[[Expected], bool] | None, *, every: int = 4) -> int:
        """A deal: one that ``prefer`` picks (when there is one) but one time in ``every``, else any."""
        ids = sorted(self.model)
        good = [d for d in ids if prefer(self.model[d])] if prefer else []
        pool = good if good and n % every else ids
        return pool[n // every % len(pool)]

    def actor(self, deal_id: int, who: str) -> User:
        owner = self.model[deal_id].owner_id
        if who == "owner":
            return next((u for u in self.users if u.id == owner), self.boss)
        return {"boss": self.users[0], "ali": self.users[1], "maria": self.users[2]}[who]

    def sees(self, actor: User, e: Expected) -> bool:
        return (
            actor.is_boss
            or e.owner_id == actor.id
            or (e.owner_id is None and e.stage.kind is StageKind.INBOX)
        )

    def may_change(self, actor: User, e: Expected) -> bool:
        return actor.is_boss or e.owner_id == actor.id

    def gate(
        self, actor: User, deal_id: int, version: int | None, *, unowned_ok: bool = False
    ) -> type[CrmError] | None:
        e = self.model[deal_id]
        if not self.sees(actor, e):
            return DealNotFound
        if version is not None and version != e.version:
            return StaleVersion
        if not unowned_ok and not self.may_change(actor, e):
            return NotAllowed
        return None

    def moved(
        self, e: Expected, target: Stage, reason: str | None = None
    ) -> tuple[Expected | None, type[CrmError] | None]:
        if target.id == e.stage.id:
            return None, InvalidInput
        if e.stage.is_closed and target.is_closed:
            return None, DealClosed
        if e.stage.is_closed:
            return self.reopened(e, target)
        if target.kind is StageKind.LOST and not (reason or "").strip():
            return None, InvalidInput
        lost = (reason or "").strip() if target.kind is StageKind.LOST else None
        after = replace(e, stage=target, lost_reason=lost, snoozed=False, version=e.version + 1, entered=None)
        top = e.changes[-1] if e.changes else None
        if target.is_closed:
            change = Change("close", e.stage.id, target.id, None, e.entered)
            return replace(after, closed_from=e.stage.id, changes=(*e.changes, change)), None
        if (
            top is not None
            and top.kind == "move"
            and self.recent(top)
            and (top.from_stage, top.to_stage)
            == (
                target.id,
                e.stage.id,
            )
        ):
            return replace(after, entered=top.entered_before, changes=e.changes[:-1]), None  # undone
        return replace(
            after, changes=(*e.changes, Change("move", e.stage.id, target.id, None, e.entered))
        ), None

    def reopened(
        self, e: Expected, into: Stage | None = None
    ) -> tuple[Expected | None, type[CrmError] | None]:
        """The closed deal reopened (in ``into``, when the user named a stage)."""
        if not e.stage.is_closed:
            return None, InvalidInput
        assert e.closed_from is not None
        target = self.pipeline.stage(e.closed_from)
        if into is not None and into.id != target.id:
            return None, DealClosed if into.is_closed else ReopensElsewhere
        after = replace(
            e,
            stage=target,
            lost_reason=None,
            snoozed=False,
            version=e.version + 1,
            closed_from=None,
            entered=None,
        )
        top = e.changes[-1]
        if (
            top.kind == "close"
            and self.recent(top)
            and (top.from_stage, top.to_stage) == (target.id, e.stage.id)
        ):
            return replace(
                after, entered=top.entered_before, changes=e.changes[:-1]
            ), None  # the close undone
        return replace(after, changes=(*e.changes, Change("start", None, None, None, None))), None

    def recent(self, change: Change) -> bool:
        """Whether a change made at ``change.at`` is less than a day old now (the model's steps are
        minutes apart, and time passes by 30 hours at once: no case falls near the edge)."""
        assert change.at is not None
        return self.clock.moment - change.at < UNDO_WINDOW - timedelta(hours=2)

    def attempt(
        self, deal_id: int, expected: type[CrmError] | None, after: Expected | None, call: Any
    ) -> None:
        """Run ``call``; it must fail with ``expected`` or succeed and leave the deal as ``after``."""
        TALLY.count("funnel actions")
        self.touched.add(deal_id)
        refusal: CrmError | None = None
        try:
            deal = self.run(call)
        except CrmError as error:
            refusal = error
        if refusal is not None:
            TALLY.count("funnel actions refused as the model said")
            if os.environ.get("KANBOT_FUNNEL_DEBUG"):
                TALLY.count(f"{call.__qualname__} refused ({type(refusal).__name__})")
            assert expected is not None and isinstance(refusal, expected), (
                f"refused with {refusal!r}, expected {expected}"
            )
            return
        TALLY.count("funnel actions done as the model said")
        if os.environ.get("KANBOT_FUNNEL_DEBUG"):
            TALLY.count(f"{call.__qualname__} done")
        assert expected is None, f"done, but the model expected {expected.__name__}"
        assert after is not None
        assert deal.version == after.version, (deal.version, after.version)
        if after.entered is not None:  # an undo: back in its stage since it first entered it
            assert deal.stage_entered_at == after.entered, (deal.stage_entered_at, after.entered)
            TALLY.count("funnel stage changes undone as the model said")
        elif after.stage.id != self.model[deal_id].stage.id:  # a stage change: it entered now
            after = replace(after, entered=deal.stage_entered_at)
            if after.changes and after.changes[-1].at is None:
                last = after.changes[-1]
                at = deal.stage_entered_at if last.kind != "start" else None
                after = replace(after, changes=(*after.changes[:-1], replace(last, at=at)))
        else:
            after = replace(after, entered=self.model[deal_id].entered)
        self.model[deal_id] = after

    # -- rules -----------------------------------------------------------------------------------

    @precondition(lambda self: len(self.model) < MAX_DEALS)
    @rule(who=ACTORS, title=titles, amount=amounts, start=st.sampled_from([0, 1, 3]))
    def create(self, who: int, title: str, amount: Decimal | None, start: int) -> None:
        actor = self.users[who]
        stage = self.pipeline.path[start]
        deal = self.run(self.crm_a.deals.create(actor=actor, title=title, amount=amount, stage=stage.id))
        self.model[deal.id] = Expected(stage, actor.id, title, amount, 1, entered=deal.stage_entered_at)
        self.touched.add(deal.id)

    @precondition(lambda self: bool(self.model))
    @rule(
        n=PICK,
        who=DEAL_ACTORS,
        to=st.integers(0, 7),
        reason=st.sampled_from(["Price", "", "  "]),
        stale=st.booleans(),
    )
    def move(self, n: int, who: str, to: int, reason: str, stale: bool) -> None:
        deal = self.choose(n, lambda e: e.stage.is_closed, every=2)  # reopening half the time
        actor, target = self.actor(deal, who), self.pipeline.stages[to]
        e = self.model[deal]
        version = e.version - 1 if stale else e.version
        error = self.gate(actor, deal, version)
        after, error = (None, error) if error else self.moved(e, target, reason)
        self.attempt(
            deal,
            error,
            after,
            self.crm_a.deals.move(
                deal_id=deal, to_stage=target.id, actor=actor, expected_version=version, lost_reason=reason
            ),
        )

    @precondition(lambda self: bool(self.model))
    @rule(n=PICK, who=DEAL_ACTORS, forward=st.booleans())
    def step(self, n: int, who: str, forward: bool) -> None:
        deal = self.choose(n, None)
        actor, e = self.actor(deal, who), self.model[deal]
        error, after = self.gate(actor, deal, e.version), None
        if error is None and e.stage.is_closed:  # ◀ reopens where it was closed; ▶ goes nowhere
            after, error = self.reopened(e) if not forward else (None, InvalidInput)
        elif error is None:
            target = (self.pipeline.next_after if forward else self.pipeline.previous_before)(e.stage)
            after, error = (None, InvalidInput) if target is None else self.moved(e, target)
        call = (self.crm_a.deals.move_next if forward else self.crm_a.deals.move_previous)(
            deal_id=deal, actor=actor, expected_version=e.version
        )
        self.attempt(deal, error, after, call)

    @precondition(lambda self: bool(self.model))
    @rule(n=PICK, who=DEAL_ACTORS)
    def win(self, n: int, who: str) -> None:
        deal = self.choose(n, lambda e: not e.stage.is_closed)
        actor, e = self.actor(deal, who), self.model[deal]
        error, after = self.gate(actor, deal, e.version), None
        if error is None:
            after, error = (None, DealClosed) if e.stage.is_closed else self.moved(e, self.pipeline.won)
        self.attempt(
            deal,
            error,
            after,
            self.crm_a.deals.mark_won(deal_id=deal, actor=actor, expected_version=e.version),
        )

    @precondition(lambda self: bool(self.model))
    @rule(
        n=PICK,
        who=DEAL_ACTORS,
        reason=st.sampled_from(["Price", "No budget", "Other: late", "   ", "x" * 201]),
    )
    def lose(self, n: int, who: str, reason: str) -> None:
        deal = self.choose(n, lambda e: not e.stage.is_closed)
        actor, e = self.actor(deal, who), self.model[deal]
        error, after = self.gate(actor, deal, e.version), None
        if error is None:
            if e.stage.is_closed:
                error = DealClosed
            elif len(reason.strip()) > 200:
                error = InvalidInput
            else:
                after, error = self.moved(e, self.pipeline.lost, reason)
        self.attempt(
            deal,
            error,
            after,
            self.crm_a.deals.mark_lost(deal_id=deal, reason=reason, actor=actor, expected_version=e.version),
        )

    @precondition(lambda self: bool(self.model))
    @rule(n=PICK, who=DEAL_ACTORS, stale=st.booleans())
    def reopen(self, n: int, who: str, stale: bool) -> None:
        deal = self.choose(n, lambda e: e.stage.is_closed)
        actor, e = self.actor(deal, who), self.model[deal]
        version = e.version - 1 if stale else e.version
        error, after = self.gate(actor, deal, version), None
        if error is None:
            after, error = self.reopened(e)
        self.attempt(
            deal, error, after, self.crm_a.deals.reopen(deal_id=deal, actor=actor, expected_version=version)
        )

    @rule()
    def a_day_and_more_passes(self) -> None:
        """Thirty hours later: nothing done before can be undone any more."""
        self.clock.moment += timedelta(hours=30)

    @precondition(lambda self: bool(self.model))
    @rule(
        n=PICK,
        who=st.sampled_from(["boss", "boss", "boss", "owner", "ali"]),
        to=st.sampled_from([None, 0, 1, 2]),
    )
    def reassign(self, n: int, who: str, to: int | None) -> None:
        deal = self.choose(n, None)
        actor, e = self.actor(deal, who), self.model[deal]
        owner = self.users[to] if to is not None else None
        after = None
        if not actor.is_boss:
            error: type[CrmError] | None = NotAllowed
        else:
            error = self.gate(actor, deal, e.version)
            if error is None:
                if (owner.id if owner else None) == e.owner_id:
                    error = InvalidInput
                else:
                    after = replace(e, owner_id=owner.id if owner else None, version=e.version + 1)
        call = self.crm_a.deals.reassign(
            deal_id=deal,
            owner_telegram_id=owner.telegram_id if owner else None,
            actor=actor,
            expected_version=e.version,
        )
        self.attempt(deal, error, after, call)

    @precondition(lambda self: any(e.owner_id is None for e in self.model.values()))
    @rule(n=PICK, who=DEAL_ACTORS)
    def take(self, n: int, who: str) -> None:
        deal = self.choose(n, lambda e: e.owner_id is None)
        actor, e = self.actor(deal, who), self.model[deal]
        error, after = self.gate(actor, deal, e.version, unowned_ok=True), None
        if error is None:
            if e.owner_id is not None:
                error = Conflict
            else:
                after = replace(e, owner_id=actor.id, version=e.version + 1)
        self.attempt(
            deal, error, after, self.crm_a.deals.take(deal_id=deal, actor=actor, expected_version=e.version)
        )

    @precondition(lambda self: bool(self.model))
    @rule(n=PICK, who=DEAL_ACTORS, hours=st.sampled_from([-1, 5, 48]))
    def snooze(self, n: int, who: str, hours: int) -> None:
        deal = self.choose(n, lambda e: not e.stage.is_closed)
        actor, e = self.actor(deal, who), self.model[deal]
        error, after = self.gate(actor, deal, e.version), None
        if error is None:
            if e.stage.is_closed:
                error = DealClosed
            elif hours < 0:
                error = InvalidInput
            else:
                after = replace(e, snoozed=True, version=e.version + 1)
        until = self.clock.moment + timedelta(hours=hours)
        self.attempt(
            deal,
            error,
            after,
            self.crm_a.deals.snooze(
                deal_id=deal, until=until, actor=actor, reason="wait", expected_version=e.version
            ),
        )

    @precondition(lambda self: bool(self.model))
    @rule(
        n=PICK,
        who=DEAL_ACTORS,
        title=titles,
        amount=amounts,
        which=st.sampled_from(["title", "amount"]),
    )
    def edit(self, n: int, who: str, title: str, amount: Decimal | None, which: str) -> None:
        deal = self.choose(n, None)
        actor, e = self.actor(deal, who), self.model[deal]
        error, after = self.gate(actor, deal, e.version), None
        value = title if which == "title" else ("" if amount is None else str(amount))
        if error is None:
            if which == "title":
                error = InvalidInput if title == e.title else None
                after = replace(e, title=title, version=e.version + 1)
            else:
                error = InvalidInput if amount == e.amount else None
                after = replace(e, amount=amount, version=e.version + 1)
        self.attempt(
            deal,
            error,
            after,
            self.crm_a.deals.edit(
                deal_id=deal, field=which, value=value, actor=actor, expected_version=e.version
            ),
        )

    @precondition(lambda self: bool(self.model))
    @rule(n=PICK, title_a=titles, title_b=titles)
    def two_users_write_the_same_version(self, n: int, title_a: str, title_b: str) -> None:
        deal = self.choose(n, None)
        """The boss on two devices (two CRMs) edits the same version at once: one write, one refusal."""
        e = self.model[deal]
        self.writes += 1
        a_title, b_title = f"{title_a} (A{self.writes})", f"{title_b} (B{self.writes})"
        seen_a = self.run(self.crm_a.deals.get(deal_id=deal, actor=self.boss))
        seen_b = self.run(self.crm_b.deals.get(deal_id=deal, actor=self.boss))
        assert seen_a.version == seen_b.version == e.version

        async def both() -> list[Deal | BaseException]:
            return await asyncio.gather(  # type: ignore[return-value]
                self.crm_a.deals.edit(
                    deal_id=deal,
                    field="title",
                    value=a_title,
                    actor=self.boss,
                    expected_version=seen_a.version,
                ),
                self.crm_b.deals.edit(
                    deal_id=deal,
                    field="title",
                    value=b_title,
                    actor=self.boss,
                    expected_version=seen_b.version,
                ),
                return_exceptions=True,
            )

        outcomes = self.run(both())
        written = [o for o in outcomes if isinstance(o, Deal)]
        refused = [o for o in outcomes if isinstance(o, StaleVersion)]
        assert (len(written), len(refused)) == (1, 1), outcomes
        self.model[deal] = replace(e, title=written[0].title, version=e.version + 1)
        self.touched.add(deal)

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def the_database_agrees_with_the_model_and_with_itself(self) -> None:
        if not self.model:
            return
        self.run(self._check())

    async def _check(self) -> None:
        crm, boss = self.crm_a, self.boss
        stored = {d.id: d for d in await crm.deals.list_deals(actor=boss)}
        assert stored.keys() == self.model.keys()
        stage_ids = {s.id for s in self.pipeline.stages}
        for deal_id, e in self.model.items():
            deal = stored[deal_id]
            assert deal.stage.id in stage_ids and deal.stage.id == e.stage.id, (deal.stage, e.stage)
            assert (deal.owner_id, deal.title, deal.amount, deal.version) == (
                e.owner_id,
                e.title,
                e.amount,
                e.version,
            )
            assert deal.lost_reason == e.lost_reason and (deal.snoozed_until is not None) == e.snoozed
            assert deal.stage_entered_at == e.entered, (deal.stage_entered_at, e.entered)
            assert (deal.closed_from_stage_id, deal.is_closed) == (e.closed_from, e.closed_from is not None)
            if deal_id not in self.touched:
                continue  # its history was replayed when it last changed
            history = await crm.deals.history(deal_id=deal_id, actor=boss)
            assert replay(history, self.pipeline) == state_of(deal), (
                replay(history, self.pipeline),
                state_of(deal),
            )
            assert len(history) == deal.version, "each change is one version and one line of history"
            closing = [h.at for h in history if h.kind in (EventKind.WON, EventKind.LOST)]
            assert deal.closed_at == (closing[-1] if deal.is_closed else None), (deal.closed_at, closing)
        self.touched.clear()
        self.checks += 1
        if self.checks % SUMS_EVERY == 0:
            await self._check_sums(stored)

    async def _check_sums(self, stored: dict[int, Deal]) -> None:
        crm, boss = self.crm_a, self.boss
        board = await crm.deals.board(actor=boss)
        assert sum(c.count for c in board.columns) == len(stored), "every deal in exactly one column"
        for column in board.columns:
            in_stage = [d for d in stored.values() if d.stage.id == column.stage.id]
            assert column.count == len(in_stage)
            assert column.amount == total(in_stage)
        funnel = await crm.reports.funnel(actor=boss)
        for row in funnel.rows:
            in_stage = [d for d in stored.values() if d.stage.id == row.stage.id]
            assert (row.count, row.amount) == (
                len(in_stage),
                total(in_stage),
            )
        open_deals = [d for d in stored.values() if not d.is_closed]
        assert funnel.count == len(open_deals)
        period = crm.reports.default_period(days=3650)
        for seller_row in await crm.reports.sellers(actor=boss, period=period):
            mine = [d for d in open_deals if d.owner_id == seller_row.seller.id]
            won = [
                d
                for d in stored.values()
                if d.owner_id == seller_row.seller.id and d.stage.kind is StageKind.WON
            ]
            assert (seller_row.open_count, seller_row.open_amount) == (
                len(mine),
                total(mine),
            )
            assert (seller_row.won_count, seller_row.won_amount) == (
                len(won),
                total(won),
            )


def total(deals: list[Deal]) -> Decimal:
    return sum((d.amount or Decimal(0) for d in deals), Decimal(0))


def state_of(deal: Deal) -> dict[str, Any]:
    return {
        "stage": deal.stage.id,
        "owner": deal.owner_id,
        "title": deal.title,
        "amount": deal.amount,
        "currency": deal.currency,
        "priority": deal.priority.value,
        "lost_reason": deal.lost_reason,
        "snoozed_until": deal.snoozed_until.astimezone(UTC).isoformat() if deal.snoozed_until else None,
        "closed": deal.closed_at is not None,
    }


def replay(history: list[DealEvent], pipeline: Pipeline) -> dict[str, Any]:
    """The deal as its history tells it, from the first line (created) on."""
    first, *rest = history
    assert first.kind is EventKind.CREATED
    data = first.data
    state: dict[str, Any] = {
        "stage": first.to_stage_id,
        "owner": data.get("owner"),
        "title": data["title"],
        "amount": Decimal(data["amount"]) if "amount" in data else None,
        "currency": data["currency"],
        "priority": data["priority"],
        "lost_reason": None,
        "snoozed_until": None,
    }
    ids = {e.id: e for e in history}
    for event in rest:
        if event.undoes_id is not None:  # an undo goes back where the change it undid came from
            undone = ids[event.undoes_id]
            assert (undone.to_stage_id, undone.from_stage_id) == (event.from_stage_id, event.to_stage_id)
            assert undone.at <= event.at <= undone.at + UNDO_WINDOW
        if event.kind in (EventKind.MOVED, EventKind.WON, EventKind.LOST, EventKind.REOPENED):
            assert event.from_stage_id == state["stage"], "a move starts where the deal was"
            state |= {"stage": event.to_stage_id, "snoozed_until": None}
            state["lost_reason"] = event.data["reason"] if event.kind is EventKind.LOST else None
        elif event.kind is EventKind.REASSIGNED:
            assert event.data.get("from_owner") == state["owner"]
            state["owner"] = event.data.get("to_owner")
        elif event.kind is EventKind.EDITED and event.data["field"] in ("title", "currency"):
            state[event.data["field"]] = event.data.get("new")
        elif event.kind is EventKind.EDITED and event.data["field"] == "amount":
            state["amount"] = Decimal(event.data["new"]) if "new" in event.data else None
        elif event.kind is EventKind.PRIORITY_CHANGED:
            state["priority"] = event.data["new"]
        elif event.kind is EventKind.SNOOZED:
            state["snoozed_until"] = event.data["until"]
    state["closed"] = pipeline.stage(state["stage"]).is_closed
    if state["snoozed_until"] is not None:
        state["snoozed_until"] = datetime.fromisoformat(state["snoozed_until"]).astimezone(UTC).isoformat()
    return state


def run_machine(backend: str, request: pytest.FixtureRequest, examples: int) -> None:
    if backend == "sqlite":
        BACKEND.sqlite_template, BACKEND.postgres_url = request.getfixturevalue("sqlite_template"), None
    else:
        BACKEND.postgres_url = request.getfixturevalue("postgres_server_url")
    run_state_machine_as_test(FunnelMachine, settings=machine_settings(examples))
    if os.environ.get("KANBOT_FUNNEL_DEBUG"):
        print(TALLY.counts)


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_funnel_keeps_its_invariants_whatever_users_do(
    backend: str, request: pytest.FixtureRequest
) -> None:
    run_machine(backend, request, QUICK[backend])


@pytest.mark.reliability
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_funnel_keeps_its_invariants_over_hundreds_of_runs(
    backend: str, request: pytest.FixtureRequest
) -> None:
    run_machine(backend, request, LONG)
