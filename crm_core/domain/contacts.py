"""Customers shared by deals: a phone number is one customer's, and changing a shared customer is a choice.

A phone number identifies a customer: a new deal with a known number joins that customer's contact,
and says so. A contact on several deals is changed for all of them (``ContactScope.ALL``: each deal's
history records it) or the deal being edited gets a contact of its own (``ContactScope.THIS``); with no
choice made, a change to a shared contact is refused (``ContactShared``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from crm_core.domain.errors import CrmError

CONTACT_FIELDS = frozenset({"contact", "phone", "company"})  # the deal's fields that are its customer's


@dataclass(slots=True)
class Contact:
    """A customer: who a deal is with, shared by the deals with the same phone number."""

    id: int
    name: str | None
    phone: str | None
    company: str | None = None


class ContactScope(enum.StrEnum):
    ALL = "all"  # change the customer: every deal of theirs shows the change
    THIS = "this"  # give the deal being edited a contact of its own; the other deals keep theirs


@dataclass(frozen=True, slots=True)
class DealRef:
    """One of a customer's deals as a given actor may know of it: its title only if they may see it."""

    id: int
    title: str | None


@dataclass(frozen=True, slots=True)
class KnownCustomer:
    """Whose a phone number is already: the contact, and their open deals as the actor may know them."""

    contact: Contact
    seen: list[DealRef]  # the open deals the actor may see, most recently active first
    unseen: int  # the other open deals (another seller's): counted, never named

    @property
    def open_count(self) -> int:
        return len(self.seen) + self.unseen

    @property
    def name(self) -> str:
        return self.contact.name or self.contact.phone or ""


class ContactShared(CrmError):
    """A change to a contact several deals share, without saying whether it is for all of them."""

    code = "contact_shared"

    def __init__(self, *, deal_id: int, name: str, deal_count: int) -> None:
        super().__init__(
            f"{name} is the contact of {deal_count} deals: change it for all {deal_count} deals, "
            "or give this deal its own contact.",
            deal_id=deal_id,
            name=name,
            deal_count=deal_count,
        )
        self.deal_id, self.name, self.deal_count = deal_id, name, deal_count


def needs_a_choice(field: str, deal_count: int, scope: ContactScope | None) -> bool:
    """Whether changing ``field`` of a contact on ``deal_count`` deals waits for a ``ContactScope``."""
    return field in CONTACT_FIELDS and deal_count > 1 and scope is None
