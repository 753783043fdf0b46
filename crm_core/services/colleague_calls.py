"""A deal's owner is told when a colleague spoke with their customer: answered the customer's call, or
reached them and so did the owner's call-back. Once, and in a batch: the first such call queues one
notice due a window later, and every call until it goes out is added to it (one line per colleague and
deal); the one who took the call is never told.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from crm_core.domain.deals import Deal
from crm_core.domain.notifications import ColleagueCallLine, ColleagueCalls, Notification
from crm_core.domain.tasks import Task
from crm_core.domain.users import User
from crm_core.services.unit_of_work import UnitOfWork

MOST_LINES = 50  # a notice names at most this many deals; the count goes on


@dataclass(frozen=True, slots=True)
class ColleagueCall:
    """A colleague took a call with someone's customer: answered it, or returned a missed one."""

    colleague: User
    deal: Deal
    returned: bool  # it did the owner's call-back


def colleague_calls(
    taker: User | None, deal: Deal | None, answered: bool, done: list[tuple[Task, Deal]]
) -> list[tuple[int, ColleagueCall]]:
    """Whom a call taken by ``taker`` concerns, and what to tell each: the owner of the deal whose
    customer's call the taker ``answered``, and the assignee of every call-back the call did."""
    if taker is None:
        return []
    told: list[tuple[int, ColleagueCall]] = []
    for task, of_deal in done:
        recipient = task.assignee_id or of_deal.owner_id
        if recipient is not None and recipient != taker.id:
            told.append((recipient, ColleagueCall(taker, of_deal, returned=True)))
    if answered and deal is not None and deal.owner_id is not None and deal.owner_id != taker.id:
        told.append((deal.owner_id, ColleagueCall(taker, deal, returned=False)))
    return told


async def tell_of_colleague_calls(
    uow: UnitOfWork, calls: list[tuple[int, ColleagueCall]], *, window: timedelta, now: datetime
) -> None:
    """Add each call to its recipient's notice while it waits, or queue one due ``window`` from now."""
    for recipient_id, call in calls:
        recipient = await uow.users.get(recipient_id)
        if recipient is None or not recipient.active:
            continue
        key = f"colleagues:{recipient_id}"
        waiting = await uow.outbox.waiting(key, now=now)
        if waiting is not None:
            item_id, told = waiting
            lines = told.spoke if isinstance(told, ColleagueCalls) else ()
            await uow.outbox.replace_payload(item_id, ColleagueCalls(spoke=_added(lines, call)))
            continue
        note = Notification(
            recipient_id,
            ColleagueCalls(spoke=_added((), call)),
            coalesce_key=key,
            not_before=now + window,
        )
        await uow.outbox.put(note, at=now)


def _added(lines: tuple[ColleagueCallLine, ...], call: ColleagueCall) -> tuple[ColleagueCallLine, ...]:
    """The notice's lines with ``call``: a deal the colleague spoke of already is not named twice."""
    for n, line in enumerate(lines):
        if line.by_id == call.colleague.id and line.deal_id == call.deal.id:
            returned = replace(line, returned=line.returned or call.returned)
            return (*lines[:n], returned, *lines[n + 1 :])
    if len(lines) >= MOST_LINES:
        return lines
    added = ColleagueCallLine(
        by_id=call.colleague.id,
        by_name=call.colleague.name,
        deal_id=call.deal.id,
        title=call.deal.title,
        returned=call.returned,
    )
    return (*lines, added)
