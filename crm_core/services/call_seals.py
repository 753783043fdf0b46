"""Binding what a PBX signed of a call to the call's id, when its signature leaves the id out.

Zadarma signs ``caller_id + called_did + call_start`` only: from one captured notification, even a
ringing one, anyone could post final calls with any call id, extension, outcome and duration. The
signed text is bound to the call id it first came with: under another id it is refused, and each later
event of the call must sign the same values.
"""

from __future__ import annotations

import logging
from datetime import datetime

from crm_core.domain.calls import CallSeal, CallSealRefused
from crm_core.domain.errors import InvalidInput
from crm_core.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
MAX_CALL_ID = 128  # the calls table's external_id


class BoundMeanwhile(Exception):
    """Another transaction bound the same seal while this one looked: look again."""

    def __init__(self, provider: str, call_id: str) -> None:
        super().__init__(f"the seal of {provider} call {call_id[:40]!r} was bound meanwhile")


async def check_seal(uow: UnitOfWork, provider: str, call_id: str, seal: CallSeal, *, at: datetime) -> bool:
    """Refuse (``CallSealRefused``) a seal bound to another call, or disagreeing with the call's first
    one; bind it when it is new. ``False`` when another transaction bound it meanwhile."""
    if "\x00" in call_id or "\x00" in seal.signed or not 0 < len(call_id) <= MAX_CALL_ID:
        # What the database would fail on, and the PBX retry for ever: bad input instead.
        raise InvalidInput(
            "call", call_id[:40].replace("\x00", "\\0"), detail="a NUL character, or no or too long an id"
        )
    bound = await uow.calls.seals(provider, digest=seal.digest, external_id=call_id)
    for stored in bound:
        if stored.digest == seal.digest and stored.external_id != call_id:
            log.warning(
                "refused %s call %r: its signed fields were first signed for call %r",
                provider,
                call_id[:40],
                stored.external_id[:40],
            )
            raise CallSealRefused(call_id, "its signed fields belong to another call")
        if stored.external_id == call_id and (names := seal.disagrees_with(stored.fields)):
            log.warning("refused %s call %r: its signed %s changed", provider, call_id[:40], ", ".join(names))
            raise CallSealRefused(
                call_id, f"its signed {', '.join(names)} differ from the call's first notification"
            )
    if any(stored.digest == seal.digest for stored in bound):
        return True
    return await uow.calls.bind_seal(provider, call_id, seal, at=at)
