"""The missed-call loop: a call that reaches the customer does their call-back; one that does not
connect is one more attempt on it.

A customer is reached by an inbound call from their number answered by anyone, or an outbound call
to their number that connects, from any seller's extension. The call-back is done by itself, on
whatever deal it is, and its history says who reached the customer and how long after the missed
call. And a new caller is named by the seller who answered, in one reply ("Who is calling?").
"""

from __future__ import annotations

import secrets
from datetime import datetime

from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from crm_core.domain.conversations import Dialog, WhoIsCalling
from crm_core.domain.deals import Deal
from crm_core.domain.history import Actor, DealEvent, EventKind
from crm_core.domain.phones import pretty
from crm_core.domain.tasks import Task
from crm_core.domain.users import User
from crm_core.services.conversations import DIALOG_TTL
from crm_core.services.unit_of_work import UnitOfWork


def call_back_text(phone: str) -> str:
    """A call-back in English, as the CLI shows it (stored as data: the chat words it in its reader's
    language from the task's number)."""
    return f"Call back {pretty(phone) or phone}"


WHO_IS_CALLING = WhoIsCalling.FLOW  # the dialog that names a new caller from the seller's one reply


async def ask_who_is_calling(uow: UnitOfWork, seller: User, *, deal_id: int, now: datetime) -> bool:
    """Let the seller's next message name the new caller's deal — unless they are in the middle of
    another question (their answer there must not be taken for a name)."""
    open_dialog = await uow.dialogs.get(seller.telegram_id)
    if open_dialog is not None and now - open_dialog.updated_at <= DIALOG_TTL:
        return False
    await uow.dialogs.put(
        Dialog.of(
            seller.telegram_id,
            WhoIsCalling(deal_id=deal_id),
            step="answer",
            at=now,
            draft=secrets.randbelow(10**6) + 1,
        )
    )
    return True


async def still_asking_who(uow: UnitOfWork, seller: User, *, deal_id: int, now: datetime) -> bool:
    """Whether the seller's next message still names the caller of ``deal_id`` (not answered yet)."""
    dialog = await uow.dialogs.get(seller.telegram_id)
    return (
        dialog is not None
        and dialog.flow == WHO_IS_CALLING
        and dialog.state(WhoIsCalling).deal_id == deal_id
        and now - dialog.updated_at <= DIALOG_TTL
    )


def customer_of(event: CallEvent) -> str | None:
    """The customer's number of a call with the outside world, ``None`` for internal or hidden ones."""
    if event.direction is CallDirection.INBOUND:
        return event.caller
    if event.direction is CallDirection.OUTBOUND:
        return event.dialed
    return None


def reaches_customer(event: CallEvent) -> bool:
    """The call connected with the customer (an outbound call that connects is "answered")."""
    return event.status is CallStatus.ANSWERED and customer_of(event) is not None


def is_attempt(event: CallEvent) -> bool:
    """An outbound call, over, that did not connect: one more try at calling the customer back."""
    return (
        event.direction is CallDirection.OUTBOUND
        and event.status is CallStatus.MISSED
        and event.is_final
        and event.dialed is not None
    )


async def close_the_loop(
    uow: UnitOfWork, event: CallEvent, reacher: User | None, *, call_id: int, now: datetime, actor: Actor
) -> list[tuple[Task, Deal]]:
    """Do the open call-backs to the customer this call reached, or count the attempt on them.

    Returns the call-backs done by the call, with their deals (their history lines are written)."""
    phone = customer_of(event)
    if phone is None:
        return []
    if reaches_customer(event):
        return await _reached(uow, phone, event, reacher, call_id=call_id, now=now, actor=actor)
    if is_attempt(event):
        for task in await uow.tasks.open_call_backs_to(phone):
            task.count_attempt()
            await uow.tasks.save(task)
    return []


async def _reached(
    uow: UnitOfWork,
    phone: str,
    event: CallEvent,
    reacher: User | None,
    *,
    call_id: int,
    now: datetime,
    actor: Actor,
) -> list[tuple[Task, Deal]]:
    done = []
    reached_at = event.answered_at or event.started_at
    for task in await uow.tasks.open_call_backs_to(phone):
        deal = await uow.deals.get(task.deal_id)
        if deal is None:
            continue
        missed_at = await uow.calls.missed_call_of(phone, recorded_at=task.created_at) or task.created_at
        task.done_by_call(at=now)
        await uow.tasks.save(task)
        await uow.events.add(
            DealEvent.new(
                deal,
                EventKind.TASK_DONE,
                now,
                Actor.of(reacher) if reacher is not None else actor,
                task_id=task.id,
                text=task.text,
                phone=phone,
                call_id=call_id,
                reached=event.direction.value,
                reached_by=reacher.name if reacher is not None else None,
                after_s=max(0, round((reached_at - missed_at).total_seconds())),
                attempts=task.attempts or None,
            )
        )
        await uow.deals.refresh_follow_up(deal)
        done.append((task, deal))
    return done
