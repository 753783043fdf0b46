"""After a fault or a load: nothing lost, nothing doubled. One helper for every reliability test.

Each check reads the database (and, for what users saw, the emulator) and raises ``AssertionError``
naming what was lost or doubled:

* ``updates_handled_once`` — every update the bot accepted is in the handled-updates ledger, done,
  once; no claim is left half-way ("working");
* ``presses_answered`` — every button press got its answer (no spinner left turning);
* ``calls_once`` — every call the CRM accepted (a 2xx) is one call row, complete when its final
  event was accepted; no call row that nobody posted;
* ``outbox_settled`` — every outbox item is sent (with its time) or still queued, and an item tried
  and not sent says why; none failed or dead unless the test expected it;
* ``reminders_once`` — every stale period claimed by a reminder is in exactly one reminder (or the
  morning plan that took it in), every task notice in exactly one notification;
* ``delivered_once`` — what the outbox sent reached each user exactly once (by a text it contains).

``Tally`` counts what a run tried (cases, faults, updates, calls) for the suite's closing summary.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text

from crm_core.adapters.database import Database
from crm_core.adapters.tables import outbox
from crm_core.domain.notifications import MorningPlan, StaleReminder, TaskDue, decode_payload


@dataclass
class Tally:
    """What the reliability tests of this process tried, for the summary at the end of the run."""

    cases: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    updates: int = 0
    calls: int = 0
    notifications: int = 0
    checks: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def fault(self, kind: str, count: int = 1) -> None:
        self.faults[kind] = self.faults.get(kind, 0) + count

    def count(self, what: str, n: int = 1) -> None:
        """Anything else worth a line in the summary ("funnel actions", "forged presses"...)."""
        self.counts[what] = self.counts.get(what, 0) + n

    def merge(self, other: Mapping[str, Any]) -> None:
        self.cases += int(other.get("cases", 0))
        self.updates += int(other.get("updates", 0))
        self.calls += int(other.get("calls", 0))
        self.notifications += int(other.get("notifications", 0))
        self.checks += int(other.get("checks", 0))
        for kind, n in dict(other.get("faults", {})).items():
            self.fault(kind, int(n))
        for what, n in dict(other.get("counts", {})).items():
            self.count(what, int(n))

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    def lines(self) -> list[str]:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())) or "none"
        return [
            f"cases tried: {self.cases}",
            f"faults injected: {sum(self.faults.values())} ({faults})",
            f"accepted and checked: {self.updates} updates, {self.calls} calls, "
            f"{self.notifications} notifications",
            *(f"{what}: {n}" for what, n in sorted(self.counts.items())),
            f"nothing-lost checks passed: {self.checks}",
        ]


TALLY = Tally()


async def _rows(db: Database, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with db.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(text(sql), params)]


def _passed() -> None:
    TALLY.checks += 1


async def updates_handled_once(
    db: Database, *, bot_id: int, update_ids: Iterable[int], settle_s: float = 60.0
) -> None:
    """Each accepted update is in the ledger as done; no update is left claimed and unfinished.

    An update done just before the database went away is marked done once it is back, a little after
    its reply: the check waits up to ``settle_s`` for such marks.
    """
    wanted = {f"u:{bot_id}:{u}" for u in update_ids}
    deadline = time.monotonic() + settle_s
    while True:
        rows = await _rows(
            db, "SELECT key, state FROM processed WHERE key LIKE :prefix", prefix=f"u:{bot_id}:%"
        )
        states = {r["key"]: r["state"] for r in rows}
        if all(s == "done" for s in states.values()) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    missing = sorted(wanted - states.keys())
    assert not missing, f"accepted updates never handled: {missing[:20]}"
    working = sorted(k for k, s in states.items() if s != "done")
    assert not working, f"updates left half-handled (claimed, never finished): {working[:20]}"
    TALLY.updates += len(wanted)
    _passed()


async def presses_answered(answers: Mapping[str, Mapping[str, Any] | None]) -> None:
    """Every button press (callback query id -> the emulator's record of its answer) was answered."""
    unanswered = sorted(q for q, a in answers.items() if a is None)
    assert not unanswered, f"{len(unanswered)} button presses were never answered: {unanswered[:10]}"
    _passed()


async def calls_once(
    db: Database, accepted: Iterable[tuple[str, str, bool]], *, only_accepted: bool = True
) -> None:
    """Every accepted call ``(provider, call_id, final)`` is one call row; a final one has ended.

    ``only_accepted``: no call row exists that nobody's post was accepted for (a refused or
    unanswered post may still have landed when the CRM died after committing: pass ``False``).
    """
    wanted: dict[tuple[str, str], bool] = {}
    for provider, call_id, final in accepted:
        wanted[(provider, call_id)] = wanted.get((provider, call_id), False) or final
    rows = await _rows(db, "SELECT provider, external_id, ended_at FROM calls")
    counts = Counter((r["provider"], r["external_id"]) for r in rows)
    ended = {(r["provider"], r["external_id"]): r["ended_at"] is not None for r in rows}
    missing = sorted(k for k in wanted if counts[k] == 0)
    assert not missing, f"{len(missing)} accepted calls are missing: {missing[:10]}"
    doubled = sorted(k for k, n in counts.items() if n > 1)
    assert not doubled, f"calls recorded twice: {doubled[:10]}"  # the unique key should make this impossible
    unfinished = sorted(k for k, final in wanted.items() if final and not ended[k])
    assert not unfinished, f"calls whose final event was accepted but not applied: {unfinished[:10]}"
    if only_accepted:
        strangers = sorted(k for k in counts if k not in wanted)
        assert not strangers, f"call rows nobody's accepted post made: {strangers[:10]}"
    TALLY.calls += len(wanted)
    _passed()


async def outbox_settled(
    db: Database, *, allow_pending: bool = False, allow_given_up: Iterable[str] = ()
) -> dict[str, int]:
    """Every outbox item due is sent, or (``allow_pending``) still queued with its tries recorded.

    Returns the count per status. ``allow_given_up``: kinds that may have ended failed or dead (a
    user who blocked the bot).
    """
    rows = await _outbox(db)
    given_up_ok = set(allow_given_up)
    for row in rows:
        where = f"outbox item {row['id']} ({row['kind']})"
        if row["status"] == "sent":
            assert row["sent_at"] is not None and row["attempts"] >= 1, f"{where}: sent without a time"
        elif row["status"] == "pending":
            # queued for later (a missed call's notice waits for working hours) is not late
            assert allow_pending or not _due(row), f"{where} is due and still pending"
            if row["attempts"]:
                assert row["last_error"], f"{where}: tried {row['attempts']} times, no error recorded"
        else:
            assert row["kind"] in given_up_ok, f"{where} ended {row['status']}: {row['last_error']}"
            assert row["last_error"], f"{where} ended {row['status']} without a reason"
    statuses = Counter(r["status"] for r in rows)
    TALLY.notifications += statuses["sent"]
    _passed()
    return dict(statuses)


async def outbox_drained(db: Database, *, timeout_s: float, horizon_s: float = 30.0) -> None:
    """Wait until nothing in the outbox is unsent and due within ``horizon_s`` (a per-chat pause, a
    429's wait); what is due later (a notice waiting for working hours) may stay."""
    deadline = time.monotonic() + timeout_s
    while due := [r for r in await _outbox(db) if r["status"] == "pending" and _due(r, horizon_s)]:
        assert time.monotonic() < deadline, f"outbox items still due after {timeout_s} s: {due[:5]}"
        await asyncio.sleep(0.2)


def _due(row: Mapping[str, Any], within_s: float = 0.0) -> bool:
    return bool(row["not_before"] <= datetime.now(UTC) + timedelta(seconds=within_s))


async def _outbox(db: Database) -> list[dict[str, Any]]:
    """The outbox's rows, typed (times as aware datetimes on both backends)."""
    async with db.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(outbox).order_by(outbox.c.id))]


async def reminders_once(db: Database) -> None:
    """Each claimed stale period is in exactly one reminder or morning plan; each task notice in one
    notification (a due-now notice, or the plan that took it in)."""
    claimed = Counter(
        r["deal_id"]
        for r in await _rows(db, "SELECT deal_id FROM deal_followups WHERE reminded_at IS NOT NULL")
    )
    in_reminders: Counter[int] = Counter()
    told_tasks: Counter[int] = Counter()
    for row in await _outbox(db):
        payload = decode_payload(row["kind"], row["payload"])
        if isinstance(payload, StaleReminder):
            in_reminders.update(payload.deal_ids)
        elif isinstance(payload, MorningPlan):  # what was due when it came is in it
            in_reminders.update(payload.deal_ids)
            told_tasks.update(payload.task_ids)
        elif isinstance(payload, TaskDue) and not payload.repeat:
            told_tasks[payload.task_id] += 1
    assert in_reminders == claimed, f"stale periods claimed {dict(claimed)} != reminded {dict(in_reminders)}"
    notified = Counter(r["id"] for r in await _rows(db, "SELECT id FROM tasks WHERE notified_at IS NOT NULL"))
    assert told_tasks == notified, (
        f"task notices {dict(told_tasks)} != tasks marked notified {dict(notified)}"
    )
    _passed()


def delivered_once(
    messages_by_user: Mapping[int, Iterable[str]], markers: Mapping[int, Iterable[str]]
) -> None:
    """Each marker text (one per notification) is in exactly one message the user received."""
    problems = []
    for user, wanted in markers.items():
        texts = list(messages_by_user.get(user, ()))
        for marker in wanted:
            seen = sum(marker in t for t in texts)
            if seen != 1:
                problems.append(f"{user}: {marker!r} arrived {seen} times")
    assert not problems, "; ".join(problems[:20])
    _passed()
