"""Calls in the CRM: the pop-up's buttons, a deal's calls, a ringing call's seal, and ``ingest_call``.

``CallService`` ingests what a PBX reports as ``CallIngest`` (``crm_core.services.call_ingest``).
"""

from __future__ import annotations

from crm_core.domain.calls import CallEvent, CallRecord, CallSeal
from crm_core.domain.deals import Deal
from crm_core.domain.errors import InvalidInput, NotFound, NotTaken, Why
from crm_core.domain.users import User
from crm_core.services.base import require_active
from crm_core.services.call_deals import CallResult
from crm_core.services.call_ingest import CallIngest
from crm_core.services.call_seals import BoundMeanwhile, check_seal
from crm_core.services.unit_of_work import UnitOfWork


class CallService(CallIngest):
    """Calls: the pop-up's buttons, a deal's calls, seals; ``ingest_call`` is ``CallIngest``'s."""

    async def of_deal(self, *, deal_id: int, actor: User, limit: int = 20) -> list[CallRecord]:
        """The deal's calls, newest first, if the actor may see the deal."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            deal = await uow.deals.get_visible(deal_id, viewer=actor)
            return await uow.calls.of_deal(deal.id, limit=limit)

    async def _call_for(self, uow: UnitOfWork, call_id: int, actor: User) -> CallRecord:
        """A call the actor took (or any call, for a boss); others' calls look like no call at all."""
        require_active(actor)
        call = await uow.calls.get(call_id)
        if call is None or (not actor.is_boss and call.answered_by_id != actor.id):
            raise NotFound("call", call_id)
        return call

    async def create_deal_from_call(self, *, call_id: int, actor: User) -> Deal:
        """The pop-up's "Create a deal": the caller becomes a deal in the inbox, owned by the actor."""
        now = self.now()
        async with self.db.uow() as uow:
            call = await self._call_for(uow, call_id, actor)
            if call.deal_id is not None:
                deal = await uow.deals.get_visible(call.deal_id, viewer=actor)
                return deal
            if call.caller is None:
                raise InvalidInput("call", call_id, Why.HIDDEN_CALLER)
            caller = await uow.calls.caller(call.caller)
            event = _as_event(call)
            if caller.open_deals:
                result = CallResult(caller.open_deals[0], latest_task_due=caller.latest_open_task_due)
            else:
                result = await self._new_deal(uow, event, caller.contact, actor, now)
                await self._store_new_deal(uow, result, event, now)
            assert result.deal is not None
            await uow.calls.link(call.id, result.deal.id)
            await self._record_on_deal(uow, result.deal, result, event, call.id, now)
            await uow.commit()
        return result.deal

    async def attach_call(self, *, call_id: int, deal_id: int, actor: User) -> Deal:
        """The pop-up's "Attach to a deal": the call joins the deal, and its number the deal's contact."""
        now = self.now()
        async with self.db.uow() as uow:
            call = await self._call_for(uow, call_id, actor)
            deal = await uow.deals.get_visible(deal_id, viewer=actor)
            if not actor.is_boss and deal.owner_id != actor.id:
                raise NotTaken("attach calls to")
            missing_phone = deal.contact is None or deal.contact.phone is None
            if call.caller and missing_phone and await uow.contacts.by_phone(call.caller) is None:
                if deal.contact is None:
                    deal.contact = await uow.contacts.add(name=None, phone=call.caller, company=None, at=now)
                else:
                    deal.contact.phone = call.caller
                    await uow.contacts.save(deal.contact)
            await uow.calls.link(call.id, deal.id)
            await self._record_on_deal(
                uow, deal, CallResult(deal, tasks_read=False), _as_event(call), call.id, now
            )
            await uow.commit()
        return deal

    async def recent_open_deals(self, *, actor: User, limit: int = 8) -> list[Deal]:
        """The actor's most recently active open deals: what a call most likely belongs to."""
        require_active(actor)
        async with self.db.uow(write=False) as uow:
            return await uow.deal_lists.recent_open(actor.id, limit=limit)

    async def bind_seal(self, *, provider: str, call_id: str, seal: CallSeal) -> None:
        """Bind what a PBX signed of a ringing call to the call's id (before the call itself is reported).

        Raises ``CallSealRefused`` when the signed part is bound to another call, or this call's first
        notification signed other values.
        """
        for attempt in range(2):
            async with self.db.uow() as uow:
                if await check_seal(uow, provider, call_id, seal, at=self.now()):
                    await uow.commit()
                    return
            if attempt:
                raise BoundMeanwhile(provider, call_id)


def _as_event(call: CallRecord) -> CallEvent:
    """A stored call as the event it came from (enough for the history line)."""
    return CallEvent(
        call_id=call.external_id,
        provider=call.provider,
        direction=call.direction,
        status=call.status,
        caller=call.caller,
        dialed=None,
        started_at=call.started_at,
        answered_by=call.answered_by_ext,
        ended_at=call.ended_at,
        duration_s=call.duration_s,
    )
