"""What calls tell people, and how often: repeated calls from one number make one notice with their
count, and a call flood tells the bosses once instead of paging a seller for every new number.

Both work on the outbox by ``coalesce_key``: news of the same thing is counted on the notice while it
waits to be sent; once it went out, the next news waits for one notice a window later.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta

from crm_core.domain.calls import CallFloodRule, next_repeat_notice_at
from crm_core.domain.notifications import CallFlood, CallMissed, MissedCallNotice, Notification
from crm_core.domain.users import Role
from crm_core.services.unit_of_work import UnitOfWork


async def queue_missed_call(
    uow: UnitOfWork,
    missed: CallMissed,
    *,
    recipient: int | None,
    window: timedelta,
    now: datetime,
) -> None:
    """Tell the seller who calls back a missed call; nobody's: tell each active boss."""
    if recipient is not None:
        note = Notification(
            recipient,
            missed,
            dedup_key=f"missed:{missed.call_id}",
            coalesce_key=f"missed:{recipient}:{missed.caller}",
        )
        await queue_repeatable(uow, note, window=window, now=now)
        return
    unowned = missed.unowned()
    for boss in await uow.users.list(role=Role.BOSS, active=True):
        note = Notification(
            boss.id,
            unowned,
            dedup_key=f"unowned:{missed.call_id}:{boss.id}",
            coalesce_key=f"unowned:{boss.id}:{missed.caller}",
        )
        await queue_repeatable(uow, note, window=window, now=now)


async def queue_repeatable(uow: UnitOfWork, note: Notification, *, window: timedelta, now: datetime) -> None:
    """Queue a notice of a missed call, counting it on a notice about the same number that still
    waits; a number that was the subject of a notice within ``window`` gets the next one a window after
    it, with every call until then counted on it."""
    key, missed = note.coalesce_key, note.payload
    assert key is not None, "a repeatable notice names what it is about"
    assert isinstance(missed, MissedCallNotice), "a repeatable notice is of a missed call"
    waiting = await uow.outbox.waiting(key, now=now)
    if waiting is not None:
        item_id, told = waiting
        counted = told if isinstance(told, MissedCallNotice) else None
        calls = (counted.calls if counted else 1) + 1
        again = counted.again if counted else False
        await uow.outbox.replace_payload(item_id, replace(missed, calls=calls, again=again))
        return
    last_due_at = await uow.outbox.last_due_at(key)
    due = next_repeat_notice_at(last_due_at, now, window)
    payload = replace(missed, calls=1, again=due > now)
    await uow.outbox.put(replace(note, payload=payload, not_before=due), at=now)


async def tell_bosses_of_flood(
    uow: UnitOfWork, rule: CallFloodRule, *, starts: bool, since: datetime, now: datetime
) -> None:
    """Tell each active boss once per flood: the first call held back queues the notice; the later ones
    bring its figures up to date while it waits, and say nothing more once it went out.

    ``since``: when the flood's window began (its new numbers are counted from the first after it).
    """
    new_numbers, first_at = await uow.calls.new_numbers_from(since)
    new_numbers += 1  # this call is not stored yet
    for boss in await uow.users.list(role=Role.BOSS, active=True):
        key = f"flood:{boss.id}"
        if starts:
            figures = _flood_figures(rule, new_numbers=new_numbers, held=1, since=first_at or now, now=now)
            note = Notification(boss.id, figures, coalesce_key=key)
            await uow.outbox.put(note, at=now)
            continue
        waiting = await uow.outbox.waiting(key, now=now)
        if waiting is not None:
            item_id, told = waiting
            if not isinstance(told, CallFlood):
                continue
            started, held = told.since, told.held + 1
            figures = _flood_figures(
                rule,
                new_numbers=await uow.calls.new_numbers_since(started) + 1,
                held=held,
                since=started,
                now=now,
            )
            await uow.outbox.replace_payload(item_id, figures)


def _flood_figures(
    rule: CallFloodRule, *, new_numbers: int, held: int, since: datetime, now: datetime
) -> CallFlood:
    return CallFlood(
        new_numbers=new_numbers,
        minutes=max(math.ceil((now - since).total_seconds() / 60), 1),
        held=held,
        limit=rule.limit,
        window_minutes=max(round(rule.window.total_seconds() / 60), 1),
        since=since,
    )
