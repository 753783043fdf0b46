"""The public JSON shapes of the CLI (admins script them; keep them stable)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from crm_core.domain.contacts import Contact
from crm_core.domain.deals import Deal
from crm_core.domain.history import DealEvent
from crm_core.domain.tasks import Task, TaskKind
from crm_core.domain.users import User
from crm_core.domain.values import format_amount
from crm_core.services import Crm
from crm_core.services.call_backs import call_back_text
from crm_core.services.fields import field_values_json


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def deal_json(
    deal: Deal, pipelines: Mapping[int, str], fields: dict[str, object] | None = None
) -> dict[str, Any]:
    """A deal's public shape; ``pipelines``: every pipeline's name by id (``pipeline_names``);
    ``fields``: its team's own fields, as ``field_values_json`` gives them."""
    return {
        "id": deal.id,
        "title": deal.title,
        "pipeline": {"id": deal.pipeline_id, "name": pipelines.get(deal.pipeline_id)},
        "stage": {"id": deal.stage.id, "name": deal.stage.name, "kind": deal.stage.kind.value},
        "owner": {"telegram_id": deal.owner.telegram_id, "name": deal.owner.name} if deal.owner else None,
        "contact": {"name": deal.contact.name, "phone": deal.contact.phone} if deal.contact else None,
        "amount": format_amount(deal.amount),
        "currency": deal.currency,
        "source": deal.source.value,
        "priority": deal.priority.value,
        "created_at": iso(deal.created_at),
        "stage_entered_at": iso(deal.stage_entered_at),
        "last_activity_at": iso(deal.last_activity_at),
        "closed_at": iso(deal.closed_at),
        "lost_reason": deal.lost_reason,
        "lost_note": deal.lost_note,
        "version": deal.version,
        "fields": fields or {},
    }


async def pipeline_names(crm: Crm) -> dict[int, str]:
    """Every pipeline's name by id, for ``deal_json``."""
    return {p.id: p.name for p in await crm.pipelines.list()}


async def deals_json(crm: Crm, actor: User, deals: list[Deal]) -> list[dict[str, Any]]:
    """The deals' public shape, each with its team's own fields (`deal list --json`, the REST API)."""
    defs = await crm.fields.definitions()
    values = await crm.deals.field_values_of(deals=deals, actor=actor) if defs and deals else {}
    names = await pipeline_names(crm)
    return [deal_json(d, names, field_values_json(defs, values.get(d.id, {}))) for d in deals]


async def shown_deal_json(crm: Crm, actor: User, deal_id: int) -> dict[str, Any]:
    """One deal exactly as `kanbot deal show --json` prints it; ``DealNotFound`` when not the actor's."""
    details = await crm.deals.details(deal_id=deal_id, actor=actor)
    return deal_json(
        details.deal,
        await pipeline_names(crm),
        field_values_json([d for d, _ in details.fields], {d.key: v for d, v in details.fields}),
    )


def contact_json(contact: Contact) -> dict[str, Any]:
    """A contact's public shape (the REST API's): a deal's ``contact`` with its id and company."""
    return {"id": contact.id, "name": contact.name, "phone": contact.phone, "company": contact.company}


def user_json(user: User) -> dict[str, Any]:
    return {
        "telegram_id": user.telegram_id,
        "name": user.name,
        "role": user.role.value,
        "extensions": list(user.extensions),
        "timezone": user.timezone,
        "locale": user.locale,
        "active": user.active,
    }


def event_json(event: DealEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": iso(event.at),
        "kind": event.kind.value,
        "actor": event.actor_name or event.actor_system,
        "from_stage_id": event.from_stage_id,
        "to_stage_id": event.to_stage_id,
        "data": event.data,
        "undoes": event.undoes_id,
    }


async def history_json(crm: Crm, events: list[DealEvent]) -> list[dict[str, Any]]:
    """A deal's history as `kanbot deal history --json` prints it: each event with its stages' names."""
    names = {s.id: s.name for p in await crm.pipelines.list() for s in p.stages}
    return [
        event_json(e)
        | {"from_stage": names.get(e.from_stage_id or 0), "to_stage": names.get(e.to_stage_id or 0)}
        for e in events
    ]


def task_words(task: Task) -> str:
    """A task in English, as the CLI shows it: its text, a call-back from its number, a reminder
    by its kind ("call: about the invoice"; the chat words them in its reader's language)."""
    if task.kind is TaskKind.CALL_BACK and task.phone and not task.text:
        return call_back_text(task.phone)
    if task.kind in (TaskKind.CUSTOM, TaskKind.CALL_BACK, TaskKind.FOLLOW_UP, TaskKind.OTHER):
        return task.text or task.kind.value.replace("_", " ")
    return f"{task.kind.value}: {task.text}" if task.text else task.kind.value


def task_json(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "deal_id": task.deal_id,
        "deal_title": task.deal_title,
        "assignee": task.assignee_name,
        "due_at": iso(task.due_at),
        "text": task_words(task) if task.kind is TaskKind.CALL_BACK else task.text,
        "kind": task.kind.value,
        "done_at": iso(task.done_at),
        "phone": task.phone,
        "attempts": task.attempts,
    }


def deal_row(deal: Deal) -> list[Any]:
    return [
        deal.id,
        deal.title,
        deal.stage.name,
        deal.owner.name if deal.owner else "—",
        f"{format_amount(deal.amount)} {deal.currency}" if deal.amount is not None else "",
        deal.contact.phone if deal.contact and deal.contact.phone else "",
    ]


DEAL_HEADERS = ["id", "title", "stage", "owner", "amount", "phone"]
