"""Calls placed from the CRM: a seller asks to call a deal's customer, the PBX rings them, then dials.

The request is a row in the database until the telephony edge has placed it or the PBX refused it,
so a restart loses none; the rule of who may call whom, and from which extension, is the core's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm_core.domain.errors import CrmError

CLAIM_LEASE = timedelta(seconds=60)  # a claimed request not settled within it is claimed again
GIVE_UP_AFTER = timedelta(minutes=10)  # a request nobody placed by then is refused: the moment is gone


class DialStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the telephony edge
    PLACED = "placed"  # the PBX took it: the seller's phone rings
    REFUSED = "refused"  # it will not be placed; ``refusal`` says why


class Refusal(enum.StrEnum):
    NO_PBX = "no_pbx"  # no PBX that places calls is configured
    NO_EXTENSION = "no_extension"  # the seller has no extension to ring
    NO_NUMBER = "no_number"  # the deal's customer has no phone number
    BLOCKED_NUMBER = "blocked_number"  # the number is one the CRM never calls
    PBX_UNREACHABLE = "pbx_unreachable"  # the PBX could not be reached
    PBX_REFUSED = "pbx_refused"  # the PBX answered, and would not place the call
    EXPIRED = "expired"  # nobody placed it in time


@dataclass(slots=True)
class CallRequest:
    """One call to place: ring ``extension`` (the seller's phone), then dial ``number``."""

    id: int
    deal_id: int
    requester_id: int
    extension: str
    number: str
    created_at: datetime
    task_id: int | None = None
    customer_name: str | None = None
    status: DialStatus = DialStatus.PENDING
    refusal: Refusal | None = None
    detail: str | None = None
    external_id: str | None = None
    settled_at: datetime | None = None

    @property
    def is_settled(self) -> bool:
        return self.status is not DialStatus.PENDING

    def is_expired(self, now: datetime) -> bool:
        return not self.is_settled and now - self.created_at > GIVE_UP_AFTER

    def to_json(self) -> dict[str, object]:
        """What the telephony bridge is given to place (``POST /api/v1/call-requests/claim``)."""
        return {
            "id": self.id,
            "extension": self.extension,
            "number": self.number,
            "customer_name": self.customer_name,
            "deal_id": self.deal_id,
        }


class CallRefused(CrmError):
    """A call that will not be placed, said at once: no extension, no number, a blocked number..."""

    code = "call_refused"

    def __init__(self, reason: Refusal, detail: str | None = None) -> None:
        text = f"The call cannot be placed: {reason.value.replace('_', ' ')}" + (
            f" ({detail})." if detail else "."
        )
        super().__init__(text, reason=reason.value, detail=detail)
        self.reason, self.detail = reason, detail
