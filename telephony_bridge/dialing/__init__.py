"""Placing calls from the CRM: the seller's phone rings first, then the customer is dialled.

A ``Dialer`` places one ``CallRequest`` on one PBX (Asterisk's AMI ``Originate``, or a cloud PBX's
call-back API) and says what became of it: placed, or refused with a reason. The ``Placer`` takes the
requests from the CRM (in-process, or over the signed API for ``kanbot bridge ami``) and hands them on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from crm_core.domain.dialing import CallRequest, Refusal


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the PBX did with a request: placed (with its id of the call, if it gives one) or refused."""

    placed: bool
    external_id: str | None = None
    refusal: Refusal | None = None
    detail: str | None = None

    @classmethod
    def ok(cls, external_id: str | None = None) -> Outcome:
        return cls(True, external_id=external_id)

    @classmethod
    def refused(cls, refusal: Refusal, detail: str | None = None) -> Outcome:
        return cls(False, refusal=refusal, detail=(detail or "")[:200] or None)


class Dialer(Protocol):
    @property
    def name(self) -> str:
        """Which PBX places the calls (for the logs)."""
        ...

    async def place(self, request: CallRequest) -> Outcome:
        """Ring the request's extension, then dial its number; never raises for a PBX's failure."""
        ...


__all__ = ["CallRequest", "Dialer", "Outcome", "Refusal"]
