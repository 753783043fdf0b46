"""Calls placed from the CRM: who may call which deal's customer, from which extension; and the
requests' lives until the telephony edge placed them or the PBX refused them."""

from __future__ import annotations

import logging

from crm_core.domain.deals import Deal
from crm_core.domain.dialing import CallRefused, CallRequest, DialStatus, Refusal
from crm_core.domain.errors import NotAllowed, NotFound
from crm_core.domain.notifications import CallNotPlaced, Notification
from crm_core.domain.phones import mask
from crm_core.domain.tasks import Task, TaskKind
from crm_core.domain.users import User
from crm_core.services.base import ServiceBase, require_active
from crm_core.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
MAX_DETAIL = 200


class DialService(ServiceBase):
    async def request(self, *, deal_id: int, actor: User, task_id: int | None = None) -> CallRequest:
        """Ask the PBX to ring the actor's phone, then dial the deal's customer: on the number of the
        call-back task named (the one that called), else the deal's contact's.

        Refused at once (``CallRefused``) when no PBX places calls, the actor has no extension, the
        customer has no number or it is a blocked one; a second press while the first waits (to the same
        number) is the first.
        """
        require_active(actor)
        now = self.now()
        async with self.db.uow() as uow:
            deal, task = await self._callable(uow, deal_id, task_id, actor)
            if not self.config.places_calls:
                raise CallRefused(Refusal.NO_PBX)
            if not actor.extensions:
                raise CallRefused(Refusal.NO_EXTENSION)
            number = (task.phone if task is not None else None) or (
                deal.contact.phone if deal.contact is not None else None
            )
            if not number:
                raise CallRefused(Refusal.NO_NUMBER)
            if number in self.config.blocked_numbers or number in self.config.own_numbers:
                raise CallRefused(Refusal.BLOCKED_NUMBER, number)
            waiting = await uow.call_requests.pending_of(
                requester_id=actor.id, deal_id=deal.id, number=number
            )
            if waiting is not None:
                return waiting
            request = await uow.call_requests.add(
                CallRequest(
                    id=0,
                    deal_id=deal.id,
                    requester_id=actor.id,
                    extension=actor.extensions[0],
                    number=number,
                    created_at=now,
                    task_id=task_id,
                    customer_name=(deal.contact.name if deal.contact else None) or None,
                )
            )
            await uow.commit()
        log.info("call request %s: extension %s to %s", request.id, request.extension, mask(number))
        return request

    async def _callable(
        self, uow: UnitOfWork, deal_id: int, task_id: int | None, actor: User
    ) -> tuple[Deal, Task | None]:
        """The deal whose customer the actor may call: one they may see and own (any, for a boss); and
        the call-back task named, which must be one of that deal's."""
        deal = await uow.deals.get_visible(deal_id, viewer=actor)
        if not actor.is_boss and deal.owner_id != actor.id:
            raise NotAllowed("call the customer of a deal nobody has taken yet — take it first")
        if task_id is None:
            return deal, None
        task = await uow.tasks.get(task_id)
        if task is None or task.deal_id != deal.id or task.kind is not TaskKind.CALL_BACK:
            raise NotFound("task", task_id)
        return deal, task

    async def get(self, *, request_id: int, actor: User) -> CallRequest:
        """One of the actor's requests (a boss: anyone's)."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            request = await uow.call_requests.get(request_id)
        if request is None or (not actor.is_boss and request.requester_id != actor.id):
            raise NotFound("call request", request_id)
        return request

    async def claim(self, *, limit: int = 5) -> list[CallRequest]:
        """The next requests to place, held for the telephony edge for a while; the ones that waited
        too long (no PBX took them) are refused and their requesters told."""
        now = self.now()
        async with self.db.uow() as uow:
            claimed = await uow.call_requests.claim(now=now, limit=limit)
            fresh = []
            for request in claimed:
                if request.is_expired(now):
                    await self._refuse(uow, request, Refusal.EXPIRED, None)
                else:
                    fresh.append(request)
            await uow.commit()
        return fresh

    async def placed(self, *, request_id: int, external_id: str | None = None) -> CallRequest:
        """The PBX took the request: the seller's phone rings."""
        async with self.db.uow() as uow:
            request = await self._pending(uow, request_id)
            if request.is_settled:
                return request
            request.status, request.settled_at = DialStatus.PLACED, self.now()
            request.external_id = external_id[:128] if external_id else None
            await uow.call_requests.settle(request)
            await uow.commit()
        log.info("call request %s placed (%s)", request.id, request.external_id or "no id")
        return request

    async def refused(self, *, request_id: int, reason: Refusal, detail: str | None = None) -> CallRequest:
        """The PBX would not place the request (or could not be reached): its requester is told."""
        async with self.db.uow() as uow:
            request = await self._pending(uow, request_id)
            if request.is_settled:
                return request
            await self._refuse(uow, request, reason, detail)
            await uow.commit()
        log.warning("call request %s refused: %s %s", request.id, reason.value, detail or "")
        return request

    async def _pending(self, uow: UnitOfWork, request_id: int) -> CallRequest:
        request = await uow.call_requests.get(request_id)
        if request is None:
            raise NotFound("call request", request_id)
        return request

    async def _refuse(
        self, uow: UnitOfWork, request: CallRequest, reason: Refusal, detail: str | None
    ) -> None:
        now = self.now()
        request.status, request.refusal, request.settled_at = DialStatus.REFUSED, reason, now
        request.detail = detail[:MAX_DETAIL] if detail else None
        if not await uow.call_requests.settle(request):
            return
        payload = CallNotPlaced(
            request_id=request.id,
            deal_id=request.deal_id,
            number=request.number,
            reason=reason.value,
            detail=request.detail,
        )
        note = Notification(request.requester_id, payload, dedup_key=f"dial:{request.id}")
        await uow.outbox.put(note, at=now)
