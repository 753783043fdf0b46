"""What happens to each demo deal, and when: fates chosen by hand, times drawn from a seeded RNG.

The fates make the reports say something: the team loses deals at **Commercial offer** (its lame
stage), while Tom — who does fine there — limps at **Document approval**.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UNSORTED, OPPORTUNITY, OFFER = "Unsorted", "Opportunity", "Commercial offer"
APPROVAL, SIGNING, EXECUTION, WON = "Document approval", "Signing & payment", "Execution", "Won"
PATH = (UNSORTED, OPPORTUNITY, OFFER, APPROVAL, SIGNING, EXECUTION, WON)
HISTORY_DAYS = 59.5
GAP = timedelta(hours=4)  # between two stage changes of one deal


@dataclass(frozen=True, slots=True)
class Fate:
    """Where a deal is now and how it got there."""

    end: str  # an open stage or "Won"; a lost deal's ``end`` is the stage it was lost from
    reason: str | None = None  # set: the deal was lost at ``end`` for this reason
    origin: str = "manual"  # "manual", "call" (an answered call from a new number) or "missed"
    stale: bool = False  # its last activity is older than its stage's follow-up
    task: str | None = None  # an open task: "today", "soon" or "overdue"
    minutes_ago: int | None = None  # born today, this long ago
    high: bool = False

    @property
    def lost(self) -> bool:
        return self.reason is not None


def won(origin: str = "manual") -> Fate:
    return Fate(WON, origin=origin)


def lost(stage: str, reason: str) -> Fate:
    return Fate(stage, reason=reason)


SCENARIO = {
    "Ali": (
        won(),
        won(origin="call"),
        won(),
        lost(OFFER, "Price"),
        lost(OFFER, "Chose a competitor"),
        lost(OFFER, "Price"),
        lost(OPPORTUNITY, "No budget"),
        Fate(SIGNING, task="today", high=True),
        Fate(APPROVAL, task="soon"),
        Fate(OFFER, stale=True, task="overdue"),
        Fate(OPPORTUNITY, origin="missed"),
        Fate(UNSORTED, origin="call", minutes_ago=40),
        Fate(EXECUTION),
    ),
    "Maria": (
        won(),
        won(),
        won(origin="missed"),
        lost(OFFER, "Chose a competitor"),
        lost(OFFER, "Price"),
        lost(OFFER, "No response"),
        Fate(OPPORTUNITY, stale=True),
        Fate(OFFER, task="today"),
        Fate(APPROVAL, origin="call"),
        Fate(EXECUTION),
        Fate(UNSORTED, origin="missed", minutes_ago=180),  # nobody called back: overdue and stale
        Fate(SIGNING, high=True),
        lost(UNSORTED, "Not a fit"),
    ),
    "Tom": (
        won(),
        won(),
        lost(APPROVAL, "Chose a competitor"),
        lost(APPROVAL, "No budget"),
        lost(APPROVAL, "No response"),
        Fate(APPROVAL, stale=True, task="overdue"),
        Fate(APPROVAL, task="soon"),
        Fate(OFFER),
        Fate(OPPORTUNITY, origin="call"),
        Fate(SIGNING),
        lost(OFFER, "Price"),
        Fate(UNSORTED, origin="call", minutes_ago=25, task="today"),
        Fate(EXECUTION),
    ),
}
FOLLOW_UP_DAYS = {UNSORTED: 2 / 24, OPPORTUNITY: 3, OFFER: 3, APPROVAL: 5, SIGNING: 3, EXECUTION: 14}


@dataclass(frozen=True, slots=True)
class Timeline:
    """A deal's stage changes: when it was created (in ``start``), then one time per move forward,
    then, for a lost deal, when it was lost."""

    start: str
    times: tuple[datetime, ...]


class Clockwork:
    """Draws moments: in the seller's working hours, never in the future, always in order."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng, self.now = rng, now

    def working_moment(self, days_ago: float, tz: ZoneInfo) -> datetime:
        day = (self.now - timedelta(days=days_ago)).astimezone(tz).date()
        start = datetime.combine(day, time(9), tzinfo=tz)
        return start + timedelta(minutes=self.rng.randint(0, 9 * 60))

    def office_hours(self, day: date, tz: ZoneInfo) -> datetime:
        """A quarter hour between 10:00 and 17:00 on ``day`` in ``tz``."""
        return datetime.combine(day, time(10), tzinfo=tz) + timedelta(minutes=15 * self.rng.randint(0, 28))

    def due_today(self, tz: ZoneInfo) -> datetime:
        """Later in today's working hours, or tomorrow morning when today's are over."""
        local = self.now.astimezone(tz)
        soon = quarter(local + timedelta(hours=self.rng.randint(1, 2)))
        if soon.date() == local.date() and 9 <= soon.hour < 18:
            return soon
        day = local.date() if local.hour < 9 else local.date() + timedelta(days=1)
        return datetime.combine(day, time(9, 30), tzinfo=tz) + timedelta(minutes=15 * self.rng.randint(0, 6))

    def timeline(self, fate: Fate, tz: ZoneInfo, *, oldest: bool = False) -> Timeline:
        if fate.minutes_ago is not None:
            return Timeline(UNSORTED, (self.now - timedelta(minutes=fate.minutes_ago),))
        start = OPPORTUNITY if fate.origin == "manual" and self.rng.random() < 0.35 else UNSORTED
        if PATH.index(fate.end) < PATH.index(start):
            start = UNSORTED
        steps = PATH.index(fate.end) - PATH.index(start) + (1 if fate.lost else 0)
        last, first = self._span(fate, steps)
        if oldest:
            first = HISTORY_DAYS - 0.1
        days = [first - (first - last) * i / max(steps, 1) for i in range(steps + 1)]
        moments = [self.working_moment(d, tz) for d in days]
        return Timeline(start, self._ordered(moments))

    def _span(self, fate: Fate, steps: int) -> tuple[float, float]:
        """Days ago of the deal's last stage change and of its creation."""
        rng = self.rng
        if fate.end == WON:
            last = rng.uniform(2, 40)
        elif fate.lost:
            last = rng.uniform(1, 24)
        elif fate.stale:
            last = FOLLOW_UP_DAYS[fate.end] + rng.uniform(1.5, 5)
        else:
            last = rng.uniform(0.05, min(FOLLOW_UP_DAYS[fate.end] * 0.5, 2.5))
        first = last + steps * rng.uniform(1.5, 4.5)
        return last, min(first, HISTORY_DAYS - rng.uniform(0.5, 8))

    def _ordered(self, moments: list[datetime]) -> tuple[datetime, ...]:
        """Strictly increasing and at least ``GAP`` apart (room for the calls and notes around each
        change), the last one half an hour before now (room for what follows it)."""
        result = list(moments)
        for i in range(1, len(result)):
            if result[i] < result[i - 1] + GAP:
                result[i] = result[i - 1] + GAP + timedelta(minutes=self.rng.randint(0, 90))
        latest = self.now - timedelta(minutes=30)
        for i in reversed(range(len(result))):
            ceiling = latest if i == len(result) - 1 else result[i + 1] - GAP
            result[i] = min(result[i], ceiling)
        return tuple(result)


def quarter(moment: datetime) -> datetime:
    """``moment`` rounded up to the next quarter hour, as people set due times."""
    extra = -moment.minute % 15
    return (moment + timedelta(minutes=extra)).replace(second=0, microsecond=0)
