"""Web forms: a website's contact form drops its leads into a pipeline's inbox, by the form's key."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from crm_core.domain.errors import InvalidInput, NotFound, Why

MAX_FORM_NAME = 100
MAX_EMAIL = 254
KEY_BYTES = 18  # 24 URL-safe characters: not a secret (it sits in the page), only hard to guess


@dataclass(frozen=True, slots=True)
class WebForm:
    """A form on a website: where its leads go (``pipeline_id``; None: the default pipeline) and who
    gets them (``owner_id``; None: the inbox, unassigned, and the bosses are told)."""

    id: int
    name: str
    key: str
    pipeline_id: int | None
    owner_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Lead:
    """What a visitor sent through a form."""

    name: str
    phone: str | None = None
    email: str | None = None
    message: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LeadTaken:
    """The deal a lead made (``created``) or joined."""

    deal_id: int
    created: bool


class FormNotFound(NotFound):
    """No form has this key (a wrong key, or the form was removed)."""

    code = "form_not_found"


def new_form_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def valid_form_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise InvalidInput("name", raw, Why.EMPTY)
    if len(name) > MAX_FORM_NAME:
        raise InvalidInput("name", raw, Why.TOO_LONG, most=MAX_FORM_NAME)
    return name


def valid_email(raw: str) -> str:
    """An e-mail address as a visitor typed it, checked only for its shape."""
    email = raw.strip()
    local, at, domain = email.partition("@")
    if len(email) > MAX_EMAIL or not at or not local or "." not in domain or any(c.isspace() for c in email):
        raise InvalidInput("email", raw, detail="an e-mail address such as anna@example.com")
    return email


def lead_note(form: WebForm, lead: Lead, email: str | None) -> str:
    """The note a lead leaves on its deal: which form, the e-mail and the message."""
    lines = [f"Web form «{form.name}»: {lead.name}"]
    if email:
        lines.append(f"E-mail: {email}")
    if lead.message and lead.message.strip():
        lines.append(lead.message.strip())
    return "\n".join(lines)
