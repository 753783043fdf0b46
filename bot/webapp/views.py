"""The board's JSON: columns, deals (as cards and in detail) and history lines, as the page shows them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.core.features.cards import event_text, stage_label, stage_name, task_text
from bot.core.field_words import field_name, field_value
from bot.core.i18n import Tr, bare
from bot.webapp.texts import plain
from crm_core.domain.deals import Deal
from crm_core.domain.fields import FieldType
from crm_core.domain.funnel import Pipeline, Stage
from crm_core.domain.history import DealEvent
from crm_core.domain.phones import pretty as pretty_phone
from crm_core.domain.users import User
from crm_core.services.deals import DealDetails

JSON = dict[str, Any]


def stage_json(stage: Stage, tr: Tr) -> JSON:
    return {"id": stage.id, "name": stage_label(stage, tr), "kind": stage.kind.value}


def pipeline_json(pipeline: Pipeline) -> JSON:
    return {"id": pipeline.id, "name": pipeline.name}


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def deal_json(deal: Deal, *, viewer: User, tr: Tr, now: datetime) -> JSON:
    """A deal as its card on the board shows it."""
    contact = deal.contact
    who = " · ".join(p for p in (contact.name, contact.company) if p) if contact else ""
    return {
        "id": deal.id,
        "version": deal.version,
        "title": deal.title,
        "stage_id": deal.stage.id,
        "contact": who or (pretty_phone(contact.phone) if contact else ""),
        "amount": _money(deal.amount),
        "amount_text": tr.money(deal.amount, deal.currency) if deal.amount is not None else "",
        "currency": deal.currency,
        "priority": deal.priority.value,
        "owner": {"telegram_id": deal.owner.telegram_id, "name": deal.owner.name} if deal.owner else None,
        "stage_entered_at": deal.stage_entered_at.isoformat(),
        "in_stage": plain(tr.days(now - deal.stage_entered_at)),
        "stale": deal.is_stale(now),
        "closed": deal.is_closed,
        "lost_reason": plain(tr.lost_reason(deal.lost_reason, deal.lost_note)) if deal.lost_reason else None,
        "movable": viewer.is_boss or deal.owner_id == viewer.id,
    }


def details_json(
    found: DealDetails,
    history: list[DealEvent],
    *,
    viewer: User,
    tr: Tr,
    now: datetime,
    funnels: Sequence[Pipeline] = (),
) -> JSON:
    """A deal in full, with its history newest first; with several ``funnels``, the others it may be
    moved to, each with its open stages."""
    deal, pipeline = found.deal, found.pipeline
    n, of = pipeline.ordinal(deal.stage)
    contact = deal.contact
    task = found.next_task
    return {
        **deal_json(deal, viewer=viewer, tr=tr, now=now),
        "stage": {**stage_json(deal.stage, tr), "place": f"{n}/{of}" if n else ""},
        "contact_name": contact.name if contact else None,
        "company": contact.company if contact else None,
        "phone": pretty_phone(contact.phone) if contact else "",
        "playbook": plain(tr(deal.stage.playbook)) if deal.stage.playbook and deal.stage.is_open else "",
        "next_task": (
            {
                "text": plain(task_text(task, tr)),
                "when": tr.when(task.due_at, now=now),
                "overdue": task.due_at <= now,
            }
            if task
            else None
        ),
        "snoozed_until": (
            tr.when(deal.snoozed_until, now=now) if deal.snoozed_until and deal.snoozed_until > now else None
        ),
        "created": tr.when(deal.created_at, now=now),
        "calls": found.call_count,
        "fields": fields_json(found, tr),
        # where a closed deal goes back to (the core's rule): the only column it may be moved to
        "reopens_in": deal.reopen_stage(pipeline).id if deal.is_closed else None,
        "history": [history_line(e, (pipeline, *funnels), tr, now) for e in history],
        "pipeline": pipeline_json(pipeline) if len(funnels) > 1 else None,
        "other_pipelines": [
            {**pipeline_json(f), "stages": [stage_json(s, tr) for s in f.stages if s.is_open]}
            for f in funnels
            if f.id != pipeline.id and len(funnels) > 1 and not deal.is_closed  # a closed deal stays
        ],
    }


def fields_json(found: DealDetails, tr: Tr) -> list[JSON]:
    """Every one of the team's fields, in the funnel file's order: its name in the user's language, its
    value as the card shows it (``filled`` false: empty, hidden unless edited) and as typed to edit it."""
    values = {d.key: v for d, v in found.fields}
    return [
        {
            "key": d.key,
            "name": plain(field_name(d, tr)),
            "value": bare(plain(field_value(d, values.get(d.key, ()), tr, found.deal.currency))),
            "text": d.as_text(values.get(d.key, ())),
            "filled": bool(values.get(d.key)),
            "choices": list(d.choices) or (["yes", "no"] if d.type is FieldType.BOOL else []),
        }
        for d in found.field_defs
    ]


def history_line(event: DealEvent, funnels: Sequence[Pipeline], tr: Tr, now: datetime) -> JSON:
    """One line of history in words (the chat's words: the same translations); a stage named from any
    of ``funnels`` (a deal moved from another funnel went through its stages)."""
    names = {s.id: stage_name(s, tr) for f in reversed(funnels) for s in f.stages}
    stage = names.get(event.to_stage_id or 0, "?")
    return {
        "kind": event.kind.value,
        "when": tr.when(event.at, now=now),
        "who": event.actor_name or (plain(tr("system")) if event.actor_system else ""),
        "text": plain(event_text(event, stage, tr)),
    }
