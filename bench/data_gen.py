"""The seeded generator of benchmark data: contacts, deals and their history, consistent with the schema.

Rows come out in chunks, backend-neutral (naive UTC datetimes, amounts in cents, JSON as text); the
builders in ``bench.datasets`` turn them into SQLite or PostgreSQL rows. Every deal walks the funnel
as the product moves it: created in the inbox, moved forward one stage at a time, then maybe won or
lost, with notes and calls in between, all at increasing times; ``follow_up_due_at`` is what
``follow_up_due`` computes (last activity + the stage's follow-up), so about ``stale_share`` of the
deals are stale at ``NOW``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from crm_core.domain.values import search_key

# Bump when the rows this module makes change: it is part of every cached dataset's key.
GENERATOR_VERSION = 3
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the datasets' "now": a Monday morning
NOW_NAIVE = NOW.replace(tzinfo=None)
LOST_REASONS = ("Price", "Chose a competitor", "No budget", "No response", "Not a fit")
OPEN_WEIGHTS = (12, 30, 22, 14, 10, 12)  # where open deals sit: inbox, then the open stages in order
CHUNK = 20_000


@dataclass(frozen=True)
class Spec:
    """What a dataset holds; its fields (with the generator version and the schema) name its cache."""

    deals: int
    sellers: int
    events_per_deal: float = 5.0
    stale_share: float = 0.01
    closed_share: float = 0.3
    unowned_share: float = 0.01
    span_days: int = 365
    seed: int = 8

    def key_fields(self) -> dict[str, object]:
        return asdict(self) | {"generator": GENERATOR_VERSION}


@dataclass(frozen=True)
class StageInfo:
    id: int
    position: int
    kind: str
    follow_up_s: int | None


@dataclass
class Chunk:
    contacts: list[tuple[object, ...]]  # id, name, name_key, phone, phone_rev, company, created_at
    deals: list[tuple[object, ...]]  # in the column order of DEAL_COLUMNS
    events: list[tuple[object, ...]]  # in the column order of EVENT_COLUMNS


CONTACT_COLUMNS = ("id", "name", "name_key", "phone", "phone_rev", "company", "created_at")
DEAL_COLUMNS = (
    "id",
    "pipeline_id",
    "title",
    "title_key",
    "contact_id",
    "amount",
    "currency",
    "stage_id",
    "owner_id",
    "source",
    "priority",
    "created_at",
    "stage_entered_at",
    "last_activity_at",
    "closed_at",
    "lost_reason",
    "snoozed_until",
    "follow_up_due_at",
    "version",
)
EVENT_COLUMNS = (
    "id",
    "deal_id",
    "kind",
    "at",
    "actor_id",
    "actor_system",
    "from_stage_id",
    "to_stage_id",
    "data",
)
NOTE = '{"text": "Talked it through with the customer"}'
CALL = '{"direction": "inbound", "status": "answered", "duration_s": 95}'
LOST_DATA = {reason: f'{{"reason": "{reason}"}}' for reason in LOST_REASONS}


def phone_of(contact_id: int) -> str:
    """The contact's number (E.164, a Moscow mobile): unique per contact."""
    return f"+7916{contact_id:07d}"


class Generator:
    """Makes the rows of ``spec`` over a seeded funnel (``stages`` in order) and sellers' user ids."""

    def __init__(self, spec: Spec, *, pipeline_id: int, stages: list[StageInfo], sellers: list[int]) -> None:
        self.spec, self.pipeline_id, self.sellers = spec, pipeline_id, sellers
        self.rng = random.Random(spec.seed)
        self.path = [s for s in stages if s.kind in ("inbox", "open")]
        self.won = next(s for s in stages if s.kind == "won")
        self.lost = next(s for s in stages if s.kind == "lost")
        open_share = 1 - spec.closed_share
        self.stale_if_open = min(1.0, spec.stale_share / open_share) if open_share else 0.0
        self.event_id = 0
        self.events_made = 0
        self.span = timedelta(days=spec.span_days)

    def chunks(self) -> Iterator[Chunk]:
        for start in range(1, self.spec.deals + 1, CHUNK):
            chunk = Chunk([], [], [])
            for deal_id in range(start, min(start + CHUNK, self.spec.deals + 1)):
                self._deal(deal_id, chunk)
            yield chunk

    def _walk(self, owned: bool) -> tuple[list[StageInfo], str]:
        """The stages the deal entered, in order (the inbox first), and how it ended."""
        r, spec = self.rng, self.spec
        if not owned:
            return [self.path[0]], "open"
        roll = r.random()
        if roll < spec.closed_share * 0.4:
            return [*self.path, self.won], "won"
        if roll < spec.closed_share:
            return [*self.path[: r.randint(1, len(self.path))], self.lost], "lost"
        reached = r.choices(range(len(self.path)), weights=OPEN_WEIGHTS[: len(self.path)])[0]
        return self.path[: reached + 1], "open"

    def _times(self, outcome: str, stage: StageInfo) -> tuple[datetime, datetime, datetime | None]:
        """Created, last activity and follow-up due: stale at NOW for about ``stale_share`` deals."""
        r = self.rng
        if outcome == "open":
            follow = timedelta(seconds=stage.follow_up_s or 3600)
            if r.random() < self.stale_if_open:
                due = NOW_NAIVE - timedelta(seconds=r.uniform(60, 30 * 86400))
            else:
                due = NOW_NAIVE + timedelta(seconds=r.uniform(60, follow.total_seconds()))
            last = due - follow
            created = max(NOW_NAIVE - self.span, last - timedelta(seconds=r.uniform(3600, 120 * 86400)))
            return min(created, last), last, due
        created = NOW_NAIVE - timedelta(seconds=r.uniform(86400, self.span.total_seconds()))
        last = min(NOW_NAIVE - timedelta(minutes=1), created + timedelta(seconds=r.uniform(3600, 60 * 86400)))
        return created, last, None

    def _deal(self, deal_id: int, chunk: Chunk) -> None:
        r, spec = self.rng, self.spec
        owned = r.random() >= spec.unowned_share
        owner = self.sellers[r.randrange(len(self.sellers))] if owned else None
        walk, outcome = self._walk(owned)
        created, last, due = self._times(outcome, walk[-1])
        deficit = deal_id * spec.events_per_deal - self.events_made - len(walk)
        count = len(walk) + max(0, min(12, round(deficit + r.uniform(-1.5, 1.5))))
        self.events_made += count
        if count == 1:
            created = last
        span_s = (last - created).total_seconds()
        middle = sorted(r.random() for _ in range(max(0, count - 2)))
        times = [created, *(created + timedelta(seconds=span_s * x) for x in middle)]
        if count > 1:
            times.append(last)
        closing = outcome != "open"
        # Which events after "created" are stage changes; a closed deal's last one is its close.
        later = range(1, count - 1) if closing else range(1, count)
        picks = sorted(r.sample(later, len(walk) - 1 - closing)) + ([count - 1] if closing else [])
        title = f"Deal {deal_id}: {r.choice(('ACME', 'Globex', 'Initech', 'Umbrella'))} order"
        cents = r.randrange(100_000, 50_000_000) if r.random() > 0.1 else None
        amount = f"{cents // 100}.{cents % 100:02d}" if cents is not None else None
        reason = r.choice(LOST_REASONS) if outcome == "lost" else None
        created_data = _created_data(title, amount, owner)
        stage_at = {0: 0, **{pick: n for n, pick in enumerate(picks, start=1)}}
        for index, at in enumerate(times):
            self.event_id += 1
            step = stage_at.get(index)
            if step == 0:
                kind, from_id, to_id, data = "created", None, walk[0].id, created_data
            elif step is not None:
                to = walk[step]
                kind, from_id, to_id = _stage_kind(to.kind), walk[step - 1].id, to.id
                data = _stage_data(kind, amount, reason)
            elif r.random() < 0.6:
                kind, from_id, to_id, data = "note", None, None, NOTE
            else:
                kind, from_id, to_id, data = "call", None, None, CALL
            chunk.events.append((self.event_id, deal_id, kind, at, owner, None, from_id, to_id, data))
        name, phone = f"Customer {deal_id}", phone_of(deal_id)
        chunk.contacts.append((deal_id, name, search_key(name), phone, phone[1:][::-1], None, created))
        entered = times[picks[-1]] if picks else created
        closed_at = times[-1] if closing else None
        chunk.deals.append(
            (
                *(deal_id, self.pipeline_id, title, search_key(title), deal_id, cents, "RUB", walk[-1].id),
                *(owner, "manual", "normal", created, entered, times[-1], closed_at, reason, None, due),
                len(walk),
            )
        )


_STAGE_KIND = {"won": "won", "lost": "lost"}


def _stage_kind(stage_kind: str) -> str:
    return _STAGE_KIND.get(stage_kind, "moved")


def _stage_data(kind: str, amount: str | None, reason: str | None) -> str:
    if kind == "won" and amount:
        return f'{{"amount": "{amount}"}}'
    if kind == "lost" and reason:
        return LOST_DATA[reason]
    return "{}"


def _created_data(title: str, amount: str | None, owner: int | None) -> str:
    """What ``created_event`` writes: everything the deal started with (titles here need no escaping)."""
    amount_json = f'"{amount}"' if amount else "null"
    owner_json = str(owner) if owner else "null"
    return (
        f'{{"title": "{title}", "amount": {amount_json}, "currency": "RUB", "owner": {owner_json}, '
        '"source": "manual", "priority": "normal"}'
    )
