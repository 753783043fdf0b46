"""Follow-ups that keep deals moving: stage reminders, escalation, due tasks, morning plans, digests.

``tick`` and ``digest_tick`` only look at the database and the clock: what is due is claimed with one
atomic statement each (an insert that conflicts, an update that matches once) in the same transaction
as the notification it queues, so a restart loses nothing, a missed tick is caught up by the next,
and several processes ticking together send everything exactly once.

A seller's morning plan comes first: the stale reminders, due tasks and repeated call-backs due when it
does are claimed in the plan's own transaction and listed in it (one message, not a burst); until the
plan's time comes, what waits for working hours waits for the plan too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from crm_core.domain.deals import Deal
from crm_core.domain.errors import NotAllowed
from crm_core.domain.notifications import (
    Digest,
    Escalated,
    Escalation,
    MorningPlan,
    Notification,
    Nudge,
    StaleReminder,
    TaskDue,
)
from crm_core.domain.preferences import Preferences
from crm_core.domain.schedule import next_working_start, parse_clock
from crm_core.domain.tasks import TaskKind
from crm_core.domain.users import Role, User
from crm_core.services.base import ServiceBase, require_active, require_boss
from crm_core.services.unit_of_work import UnitOfWork


@dataclass
class TickReport:
    reminders: int = 0
    reminded_deals: int = 0
    escalations: int = 0
    tasks_due: int = 0
    repeats: int = 0
    morning_plans: int = 0
    digests: int = 0
    details: list[str] = field(default_factory=list)

    def total(self) -> int:
        return (
            self.reminders
            + self.escalations
            + self.tasks_due
            + self.repeats
            + self.morning_plans
            + self.digests
        )


@dataclass(frozen=True)
class Due:
    """What a tick found due: unannounced tasks (id, assignee, kind, due) and call-backs to repeat."""

    tasks: list[tuple[int, int, str, datetime]]
    repeats: list[tuple[int, int]]


class FollowUpService(ServiceBase):
    async def tick(self, now: datetime | None = None) -> TickReport:
        """Queue whatever is due: reminders, escalations, due tasks, repeated call-backs, morning plans."""
        now = now or self.now()
        report = TickReport()
        async with self.db.uow(write=False, long=True) as uow:  # every stale deal: off the loop
            people = {u.id: u for u in await uow.users.list(active=True)}
            stale = sorted(await uow.deals.stale(now=now), key=lambda d: d.id)  # one lock order for all
            due = Due(
                await uow.followups.due_tasks(now),
                await uow.followups.call_backs_to_repeat(now - self.config.call_back_repeat_after),
            )
        held = await self._mornings(now, people, stale, due, report)
        await self._remind(now, stale, people, report, held=held)
        await self._escalate(now, people, report)
        await self._tasks(now, people, due, report, held=held)
        return report

    async def _remind(
        self, now: datetime, stale: list[Deal], people: dict[int, User], report: TickReport, *, held: set[int]
    ) -> None:
        by_owner: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
        for deal in stale:
            if deal.owner_id is not None and deal.owner_id in people and deal.follow_up_due_at is not None:
                by_owner[deal.owner_id].append((deal.id, deal.follow_up_due_at))
        hours = self.config.working_hours
        for owner_id, deals in by_owner.items():
            owner = people[owner_id]
            if not hours.contains(now, owner.timezone) or owner_id in held:
                continue  # it waits for the next working hour, or for the owner's morning plan
            async with self.db.uow() as uow:
                claimed = [
                    deal_id
                    for deal_id, since in deals
                    if await uow.followups.claim_reminder(deal_id, since, at=now)
                ]
                if claimed:
                    await uow.outbox.put(
                        Notification(owner_id, StaleReminder(deal_ids=tuple(claimed))), at=now
                    )
                await uow.commit()
            if claimed:
                report.reminders += 1
                report.reminded_deals += len(claimed)
                report.details.append(f"reminder to {owner.name}: deals {claimed}")

    async def _escalate(self, now: datetime, people: dict[int, User], report: TickReport) -> None:
        bosses = [u for u in people.values() if u.role is Role.BOSS]
        async with self.db.uow(write=False) as uow:
            candidates = await uow.followups.reminded_still_stale()
            due = []
            for item in candidates:
                deal = await uow.deals.get(item.deal_id)
                if deal is None or deal.stage.follow_up_after is None:
                    continue
                if now >= item.reminded_at + deal.stage.follow_up_after:
                    due.append((item, deal))
        if not due or not bosses:
            return
        async with self.db.uow() as uow:
            escalated = [
                Escalated(deal_id=deal.id, stale_since=item.stale_since)
                for item, deal in due
                if await uow.followups.claim_escalation(item.deal_id, item.stale_since, at=now)
            ]
            for boss in bosses if escalated else []:
                start = next_working_start(now, boss.timezone, self.config.working_hours)
                await uow.outbox.put(
                    Notification(boss.id, Escalation(items=tuple(escalated)), not_before=start), at=now
                )
            await uow.commit()
        if escalated:
            report.escalations += len(escalated)
            report.details.append(
                f"escalated deals {[e.deal_id for e in escalated]} to {len(bosses)} boss(es)"
            )

    async def _tasks(
        self, now: datetime, people: dict[int, User], due: Due, report: TickReport, *, held: set[int]
    ) -> None:
        hours = self.config.working_hours
        for task_id, assignee_id, kind, _due_at in due.tasks:
            assignee = people.get(assignee_id)
            if assignee is None:
                continue
            if kind == TaskKind.CALL_BACK.value and (
                not hours.contains(now, assignee.timezone) or assignee_id in held
            ):
                continue  # a call-back the system planned waits for working hours; one the user set does not
            async with self.db.uow() as uow:
                if await uow.followups.claim_task_notice(task_id, at=now):
                    await uow.outbox.put(Notification(assignee_id, TaskDue(task_id=task_id)), at=now)
                    report.tasks_due += 1
                await uow.commit()
        for task_id, assignee_id in due.repeats:
            if assignee_id not in people or not hours.contains(now, people[assignee_id].timezone):
                continue
            if assignee_id in held:
                continue
            async with self.db.uow() as uow:
                if await uow.followups.claim_repeat(task_id, at=now):
                    await uow.outbox.put(
                        Notification(assignee_id, TaskDue(task_id=task_id, repeat=True)),
                        at=now,
                    )
                    report.repeats += 1
                await uow.commit()

    async def _mornings(
        self, now: datetime, people: dict[int, User], stale: list[Deal], due: Due, report: TickReport
    ) -> set[int]:
        """Queue the morning plans due, each taking in what is due for its seller now; return the
        sellers whose plan is still to come today within working hours (their reminders wait for it)."""
        hours, held = self.config.working_hours, set()
        for user in people.values():
            local = now.astimezone(ZoneInfo(user.timezone))
            if user.role is not Role.SELLER or local.weekday() not in hours.days or local.time() >= hours.end:
                continue
            day = local.date().isoformat()
            async with self.db.uow() as uow:
                prefs = await uow.followups.preferences(user.id)
                starts = parse_clock(prefs.morning_time) if prefs.morning_time else hours.start
                if not prefs.morning_plan_enabled or prefs.last_morning_on == day:
                    continue
                if local.time() < starts:
                    if starts < hours.end and hours.contains(now, user.timezone):
                        held.add(user.id)
                    continue
                if not await uow.followups.claim_morning(user.id, day):
                    continue  # another process took it, with what was due in it
                plan = await self._take_in(uow, now, user.id, stale, due, day=local.date())
                await uow.outbox.put(Notification(user.id, plan), at=now)
                await uow.commit()
            report.morning_plans += 1
            report.reminded_deals += len(plan.deal_ids)
            report.details.append(
                f"morning plan to {user.name}"
                + "".join(
                    f", {name.removesuffix('_ids')}s {list(ids)}" for name, ids in plan.taken_in().items()
                )
            )
        return held

    async def _take_in(
        self, uow: UnitOfWork, now: datetime, user_id: int, stale: list[Deal], due: Due, *, day: date
    ) -> MorningPlan:
        """Claim, for the plan being queued in ``uow``, the seller's stale reminders, due task notices
        and call-backs to repeat: one transaction, so a process killed halfway claims none of them."""
        deal_ids = [
            d.id
            for d in stale
            if d.owner_id == user_id
            and d.follow_up_due_at is not None
            and await uow.followups.claim_reminder(d.id, d.follow_up_due_at, at=now)
        ]
        task_ids = [
            task_id
            for task_id, assignee_id, _kind, _due_at in due.tasks
            if assignee_id == user_id and await uow.followups.claim_task_notice(task_id, at=now)
        ]
        repeat_ids = [
            task_id
            for task_id, assignee_id in due.repeats
            if assignee_id == user_id and await uow.followups.claim_repeat(task_id, at=now)
        ]
        return MorningPlan(
            day=day, deal_ids=tuple(deal_ids), task_ids=tuple(task_ids), repeat_ids=tuple(repeat_ids)
        )

    async def digest_tick(self, now: datetime | None = None) -> TickReport:
        """Queue each boss's daily digest once their digest time has come (weekly on Mondays)."""
        now = now or self.now()
        report = TickReport()
        async with self.db.uow(write=False) as uow:
            bosses = await uow.users.list(role=Role.BOSS, active=True)
        for boss in bosses:
            local = now.astimezone(ZoneInfo(boss.timezone))
            async with self.db.uow() as uow:
                prefs = await uow.followups.preferences(boss.id)
                if not prefs.digest_enabled or local.time() < parse_clock(prefs.digest_time):
                    continue
                claimed, previous = await uow.followups.claim_digest(
                    boss.id, local.date().isoformat(), at=now
                )
                if claimed:
                    since = (
                        previous
                        if previous and now - previous < timedelta(days=7)
                        else now - timedelta(days=1)
                    )
                    payload = Digest(since=since, until=now, weekly=local.weekday() == 0)
                    await uow.outbox.put(Notification(boss.id, payload), at=now)
                    report.digests += 1
                    report.details.append(f"digest to {boss.name}")
                await uow.commit()
        return report

    # -- preferences and nudges -------------------------------------------------------------

    async def preferences(self, *, actor: User) -> Preferences:
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            prefs: Preferences = await uow.followups.preferences(actor.id)
        return prefs

    async def set_preferences(
        self,
        *,
        actor: User,
        digest_time: str | None = None,
        digest: bool | None = None,
        morning_plan: bool | None = None,
        morning_time: str | None = None,
    ) -> Preferences:
        """Change when the digest and the morning plan come (``morning_time`` "" for when the working
        hours begin), and switch the digest or the morning plan on or off."""
        require_active(actor)
        async with self.db.uow() as uow:
            prefs = await uow.followups.preferences(actor.id)
            if digest_time is not None:
                prefs.digest_time = parse_clock(digest_time).strftime("%H:%M")
            if digest is not None:
                if not actor.is_boss:
                    raise NotAllowed("get the bosses' digest")
                prefs.digest_enabled = digest
            if morning_plan is not None:
                prefs.morning_plan_enabled = morning_plan
            if morning_time is not None:
                prefs.morning_time = parse_clock(morning_time).strftime("%H:%M") if morning_time else None
            await uow.followups.save_preferences(prefs)
            await uow.commit()
        return prefs

    async def remember_pipeline(self, *, actor: User, pipeline_id: int) -> None:
        """Keep the funnel the person has just worked in: the chat offers it first next time."""
        require_active(actor)
        async with self.db.uow(bookkeeping=True) as uow:
            await uow.followups.remember_pipeline(actor.id, pipeline_id)
            await uow.commit()

    async def morning_plan_shown(self, *, actor: User) -> None:
        """Turn the morning plan on and count today's as given: ``/morning`` has just shown it."""
        require_active(actor)
        day = self.now().astimezone(ZoneInfo(actor.timezone)).date().isoformat()
        async with self.db.uow() as uow:
            prefs = await uow.followups.preferences(actor.id)
            prefs.morning_plan_enabled = True
            await uow.followups.save_preferences(prefs)
            await uow.followups.claim_morning(actor.id, day)
            await uow.commit()

    async def nudge(self, *, deal_id: int, actor: User) -> Deal:
        """A boss asks the deal's owner to follow up (sent through the outbox)."""
        require_boss(actor, "nudge sellers")
        now = self.now()
        async with self.db.uow() as uow:
            deal = await uow.deals.get_visible(deal_id, viewer=actor)
            if deal.owner is not None:
                await uow.outbox.put(
                    Notification(
                        deal.owner.id,
                        Nudge(deal_id=deal.id, by_name=actor.name),
                        dedup_key=f"nudge:{deal.id}:{now.date().isoformat()}",
                    ),
                    at=now,
                )
            await uow.commit()
        return deal
