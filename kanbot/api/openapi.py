"""The REST API's part of the OpenAPI document at ``/api/v1/openapi.json`` (beside the telephony API's),
and the page at ``/api/docs`` that lists it."""

from __future__ import annotations

import html
from typing import Any

from kanbot.api.bodies import (
    ContactPatch,
    DealIn,
    DealPatch,
    LostIn,
    MoveIn,
    NewContact,
    NoteIn,
    TaskIn,
    VersionIn,
)
from telephony_bridge.providers.openapi import OPENAPI_PATH, calls_openapi

DEALS_PATH = "/api/v1/deals"
TASKS_PATH = "/api/v1/tasks"
PIPELINES_PATH = "/api/v1/pipelines"
FIELDS_PATH = "/api/v1/fields"
USERS_PATH = "/api/v1/users"
CONTACTS_PATH = "/api/v1/contacts"
DOCS_PATH = "/api/docs"
REF = "#/components/schemas/{model}"

_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "A stable code: invalid, unauthenticated, not_allowed..."},
        "message": {"type": "string"},
        "field": {"type": ["string", "null"], "description": "The field refused (bad input)."},
        "reason": {"type": ["string", "null"], "description": "Why it was refused."},
    },
}
_NAMED = {"type": ["object", "null"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
_DEAL = {
    "type": "object",
    "description": "A deal, as `kanbot deal show --json` prints it.",
    "required": ["id", "title", "pipeline", "stage", "version", "fields"],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "pipeline": _NAMED,
        "stage": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"}},
        },
        "owner": {
            "type": ["object", "null"],
            "properties": {"telegram_id": {"type": "integer"}, "name": {"type": "string"}},
        },
        "contact": {
            "type": ["object", "null"],
            "properties": {"name": {"type": ["string", "null"]}, "phone": {"type": ["string", "null"]}},
        },
        "amount": {"type": ["string", "null"], "description": 'Decimal as text, e.g. "1500.50".'},
        "currency": {"type": "string"},
        "source": {"type": "string"},
        "priority": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "stage_entered_at": {"type": "string", "format": "date-time"},
        "last_activity_at": {"type": "string", "format": "date-time"},
        "closed_at": {"type": ["string", "null"], "format": "date-time"},
        "lost_reason": {"type": ["string", "null"]},
        "lost_note": {"type": ["string", "null"]},
        "version": {"type": "integer"},
        "fields": {"type": "object", "description": "The team's own fields, by name."},
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json({"$ref": REF.format(model="ApiError")}, description)


_DEAL_REF = {"$ref": REF.format(model="Deal")}
_AUTH_ERRORS = {"401": _error("No bearer token, or a wrong, expired or revoked one.")}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


_TASK = {
    "type": "object",
    "description": "A task, as `kanbot task list --json` prints it.",
    "required": ["id", "deal_id", "kind"],
    "properties": {
        "id": {"type": "integer"},
        "deal_id": {"type": "integer"},
        "deal_title": {"type": ["string", "null"]},
        "assignee": {"type": ["string", "null"]},
        "due_at": {"type": ["string", "null"], "format": "date-time"},
        "text": {"type": ["string", "null"]},
        "kind": {"type": "string"},
        "done_at": {"type": ["string", "null"], "format": "date-time"},
        "phone": {"type": ["string", "null"]},
        "attempts": {"type": "integer"},
    },
}
_USER = {
    "type": "object",
    "description": "A user, as `kanbot user list --json` prints it.",
    "properties": {
        "telegram_id": {"type": "integer"},
        "name": {"type": "string"},
        "role": {"type": "string"},
        "extensions": {"type": "array", "items": {"type": "string"}},
        "timezone": {"type": "string"},
        "locale": {"type": ["string", "null"]},
        "active": {"type": "boolean"},
    },
}
_EVENT = {
    "type": "object",
    "description": "One event of a deal's history, as `kanbot deal history --json` prints it.",
    "properties": {
        "id": {"type": "integer"},
        "at": {"type": "string", "format": "date-time"},
        "kind": {"type": "string"},
        "actor": {"type": ["string", "null"]},
        "from_stage_id": {"type": ["integer", "null"]},
        "to_stage_id": {"type": ["integer", "null"]},
        "from_stage": {"type": ["string", "null"]},
        "to_stage": {"type": ["string", "null"]},
        "data": {"type": "object"},
        "undoes": {"type": ["integer", "null"]},
    },
}
_STALE = {
    "allOf": [
        {"$ref": REF.format(model="ApiError")},
        {"type": "object", "properties": {"current_version": {"type": "integer"}}},
    ]
}
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A retry with the same key and request returns the first answer and changes nothing more.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The deal's version you last read (or give `version` in the body); stale: 409.",
    "schema": {"type": "string", "pattern": '^(W/)?"?[0-9]{1,15}"?$'},
}
_CONTACT = {
    "type": "object",
    "description": "A customer: a deal's contact with its id and company.",
    "required": ["id", "name", "phone", "company"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["string", "null"]},
        "phone": {"type": ["string", "null"], "description": "E.164."},
        "company": {"type": ["string", "null"]},
    },
}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}


def _schema(model: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation", ref_template=REF)
    schemas.update(schema.pop("$defs", {}))
    schemas[schema["title"]] = schema
    return {"$ref": REF.format(model=schema["title"])}


def _change(
    operation_id: str, summary: str, body: dict[str, Any], *, required: bool = True
) -> dict[str, Any]:
    """A change of one deal: its version, its Idempotency-Key, the deal as it is now."""
    return {
        "operationId": operation_id,
        "summary": summary,
        "security": [{"bearerToken": []}],
        "parameters": [_ID, _IF_MATCH, _IDEMPOTENCY],
        "requestBody": {"required": required, "content": {"application/json": {"schema": body}}},
        "responses": {
            "200": _json(_DEAL_REF, "The deal, changed."),
            "400": _error("Bad input: the field and the reason say which and why."),
            **_AUTH_ERRORS,
            "403": _error("A read-only token, or a change the user may not make (another's deal)."),
            "404": _error("No such deal, or not one the token's user may see."),
            "409": _json(_STALE, "The deal changed since that version: nothing changed; current_version."),
            "413": _error("The body is larger than 64 KiB."),
            "422": _error("This Idempotency-Key was used with another request."),
            "429": _error("Too many requests with this token: see Retry-After."),
        },
    }


def _read(operation_id: str, summary: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "security": [{"bearerToken": []}],
        "parameters": extra.pop("parameters", []),
        "responses": {
            "200": _json(schema, summary),
            **_AUTH_ERRORS,
            **extra.pop("responses", {}),
            "429": _error("Too many requests with this token: see Retry-After."),
        },
    }


def _more_paths(schemas: dict[str, Any]) -> dict[str, Any]:
    """The paths of a deal's changes, tasks and the team."""
    one = DEALS_PATH + "/{id}"
    array = {"type": "array"}
    not_found = {"404": _error("No such deal, or not one the token's user may see.")}
    return {
        one + "/move": {
            "post": _change("moveDeal", "Move the deal to a stage (of a pipeline)", _schema(MoveIn, schemas))
        },
        one + "/won": {
            "post": _change("wonDeal", "Close the deal as won", _schema(VersionIn, schemas), required=False)
        },
        one + "/lost": {
            "post": _change("lostDeal", "Close the deal as lost, for a reason", _schema(LostIn, schemas))
        },
        one + "/reopen": {
            "post": _change(
                "reopenDeal", "Open a won or lost deal again", _schema(VersionIn, schemas), required=False
            )
        },
        one + "/notes": {
            "post": {
                **_change("addNote", "Add a note to the deal; 201 with the deal", _schema(NoteIn, schemas)),
                "parameters": [_ID, _IDEMPOTENCY],
                "responses": {
                    "201": _json(_DEAL_REF, "The deal, with the note in its history."),
                    "400": _error("Bad input: the field and the reason say which and why."),
                    **_AUTH_ERRORS,
                    "403": _error("A read-only token, or another's deal."),
                    **not_found,
                    "413": _error("The body is larger than 64 KiB."),
                    "422": _error("This Idempotency-Key was used with another request."),
                    "429": _error("Too many requests with this token: see Retry-After."),
                },
            }
        },
        one + "/history": {
            "get": _read(
                "dealHistory",
                "Everything that happened to the deal, oldest first",
                {**array, "items": _EVENT},
                parameters=[_ID],
                responses=not_found,
            )
        },
        TASKS_PATH: {
            "get": _read(
                "listTasks",
                "Open tasks: your own (a boss: everyone's)",
                {**array, "items": {"$ref": REF.format(model="Task")}},
                parameters=[
                    _query("deal_id", "Only this deal's tasks.", {"type": "integer", "minimum": 1}),
                    _query(
                        "open",
                        "Only open tasks (the only ones listed).",
                        {"type": "string", "enum": ["true"]},
                    ),
                ],
                responses={"400": _error("A bad deal_id or open.")},
            ),
            "post": {
                "operationId": "addTask",
                "summary": "Plan a task on a deal; 201 with it",
                "security": [{"bearerToken": []}],
                "parameters": [_IDEMPOTENCY],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _schema(TaskIn, schemas)}},
                },
                "responses": {
                    "201": _json({"$ref": REF.format(model="Task")}, "The task."),
                    "400": _error("Bad input: the field and the reason say which and why."),
                    **_AUTH_ERRORS,
                    "403": _error("A read-only token, or another's deal."),
                    **not_found,
                    "413": _error("The body is larger than 64 KiB."),
                    "422": _error("This Idempotency-Key was used with another request."),
                    "429": _error("Too many requests with this token: see Retry-After."),
                },
            },
        },
        TASKS_PATH + "/{id}/done": {
            "post": {
                "operationId": "taskDone",
                "summary": "Mark the task done",
                "security": [{"bearerToken": []}],
                "parameters": [_ID, _IDEMPOTENCY],
                "responses": {
                    "200": _json({"$ref": REF.format(model="Task")}, "The task, done."),
                    "400": _error("The task is done already, or was cancelled."),
                    **_AUTH_ERRORS,
                    "403": _error("A read-only token."),
                    "404": _error("No such task, or not one the token's user may see."),
                    "429": _error("Too many requests with this token: see Retry-After."),
                },
            }
        },
        PIPELINES_PATH: {
            "get": _read(
                "listPipelines",
                "The pipelines, their stages and the own fields, as `kanbot pipeline show --json`",
                {"type": "object"},
            )
        },
        FIELDS_PATH: {
            "get": _read("listFields", "The team's own fields", {**array, "items": {"type": "object"}})
        },
        CONTACTS_PATH: {
            "get": _read(
                "listContacts",
                "The contacts the token's user may see (a seller: those of the seller's deals), by id",
                {
                    "type": "object",
                    "required": ["items", "next_cursor"],
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": REF.format(model="ContactOut")}},
                        "next_cursor": {"type": ["string", "null"]},
                    },
                },
                parameters=[
                    _query("q", "A name (or part of it) or a phone (any format, or its last digits)."),
                    _query("cursor", "The next_cursor of the previous page."),
                    _query(
                        "limit",
                        "At most this many (1 to 100; 50 by default).",
                        {"type": "integer", "minimum": 1, "maximum": 100},
                    ),
                ],
                responses={"400": _error("A bad search, cursor or limit.")},
            ),
            "post": {
                "operationId": "addContact",
                "summary": "A customer without a deal yet (bosses only); 201 with it",
                "security": [{"bearerToken": []}],
                "parameters": [_IDEMPOTENCY],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _schema(NewContact, schemas)}},
                },
                "responses": {
                    "201": _json({"$ref": REF.format(model="ContactOut")}, "The contact."),
                    "400": _error("Bad input (a phone another contact has): the field and the reason."),
                    **_AUTH_ERRORS,
                    "403": _error("A read-only token, or a seller (sellers add customers with a deal)."),
                },
            },
        },
        CONTACTS_PATH + "/{id}": {
            "get": _read(
                "getContact",
                "One contact",
                {"$ref": REF.format(model="ContactOut")},
                parameters=[_ID],
                responses={"404": _error("No such contact, or not one the token's user may see.")},
            ),
            "patch": {
                "operationId": "editContact",
                "summary": "Change a contact's name, phone or company, for every deal of theirs",
                "security": [{"bearerToken": []}],
                "parameters": [_ID, _IDEMPOTENCY],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _schema(ContactPatch, schemas)}},
                },
                "responses": {
                    "200": _json({"$ref": REF.format(model="ContactOut")}, "The contact, changed."),
                    "400": _error("Bad input (a phone another contact has): the field and the reason."),
                    **_AUTH_ERRORS,
                    "403": _error("A read-only token, or a contact only of another seller's deals."),
                    "404": _error("No such contact, or not one the token's user may see."),
                },
            },
        },
        USERS_PATH: {
            "get": _read(
                "listUsers",
                "The team (a seller: themselves)",
                {**array, "items": {"$ref": REF.format(model="User")}},
            )
        },
    }


def rest_openapi() -> dict[str, Any]:
    """The REST API's paths and components, to merge into the served document."""
    new_deal = DealIn.model_json_schema(mode="validation", ref_template=REF)
    schemas = {"ApiError": _ERROR, "Deal": _DEAL, **new_deal.pop("$defs", {}), "NewDeal": new_deal}
    schemas.update(Task=_TASK, User=_USER, ContactOut=_CONTACT)
    more = _more_paths(schemas)
    page = {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": _DEAL_REF},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as ?cursor= for the next page."},
        },
    }
    paths = {
        DEALS_PATH: {
            "get": {
                "operationId": "listDeals",
                "summary": "List the deals the token's user may see, by id, a page at a time",
                "security": [{"bearerToken": []}],
                "parameters": [
                    _query("pipeline", "Only this pipeline's deals (name or id)."),
                    _query("stage", "Only this stage's deals (name or id)."),
                    _query(
                        "owner", "Only this owner's deals (Telegram id).", {"type": "integer", "minimum": 1}
                    ),
                    _query(
                        "updated_since",
                        "Only deals active or changed since (ISO 8601).",
                        {"type": "string", "format": "date-time"},
                    ),
                    _query("cursor", "The next_cursor of the previous page."),
                    _query(
                        "limit",
                        "At most this many (1 to 100; 50 by default).",
                        {"type": "integer", "minimum": 1, "maximum": 100},
                    ),
                ],
                "responses": {
                    "200": _json(page, "A page of deals."),
                    "400": _error("A bad filter, cursor or limit (field and reason say which and why)."),
                    **_AUTH_ERRORS,
                    "403": _error("A seller filtering by another seller."),
                },
            },
            "post": {
                "operationId": "createDeal",
                "summary": "Create a deal (Idempotency-Key: a retry returns the first answer)",
                "security": [{"bearerToken": []}],
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": REF.format(model="NewDeal")}}},
                },
                "responses": {
                    "201": _json(
                        _DEAL_REF, "The deal, created (or the first answer to this Idempotency-Key)."
                    ),
                    "400": _error("Bad input: the field and the reason say which and why."),
                    **_AUTH_ERRORS,
                    "403": _error("A read-only token, or an action the user may not take."),
                    "409": _error("The first request with this Idempotency-Key is still being answered."),
                    "413": _error("The body is larger than 64 KiB."),
                    "422": _error("This Idempotency-Key was used with another request."),
                },
            },
        },
        DEALS_PATH + "/{id}": {
            "get": {
                "operationId": "getDeal",
                "summary": "One deal, as `kanbot deal show --json` prints it",
                "security": [{"bearerToken": []}],
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {
                    "200": _json(_DEAL_REF, "The deal."),
                    **_AUTH_ERRORS,
                    "404": _error("No such deal, or not one the token's user may see."),
                },
            },
            "patch": _change(
                "editDeal",
                "Change the title, amount, currency, own fields or owner",
                _schema(DealPatch, schemas),
            ),
        },
        **more,
    }
    for operations in paths.values():
        for operation in operations.values():
            operation["responses"].setdefault(
                "429", _error("Too many requests with this token: see Retry-After.")
            )
            if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])):
                operation["responses"].setdefault(
                    "409", _error("The first request with this Idempotency-Key is still being answered.")
                )
                operation["responses"].setdefault(
                    "422", _error("This Idempotency-Key was used with another request.")
                )
            if "requestBody" in operation:
                operation["responses"].setdefault("413", _error("The body is larger than 64 KiB."))
    security = {"bearerToken": {"type": "http", "scheme": "bearer", "description": "`kanbot token create`"}}
    return {"paths": paths, "components": {"schemas": schemas, "securitySchemes": security}}


def merged(base: dict[str, Any]) -> dict[str, Any]:
    """``base`` (the telephony API's document) with the REST API's paths and components."""
    rest = rest_openapi()
    document = {**base, "paths": {**base.get("paths", {}), **rest["paths"]}}
    components = dict(base.get("components", {}))
    for part, entries in rest["components"].items():
        components[part] = {**components.get(part, {}), **entries}
    document["components"] = components
    document["info"] = {
        **base.get("info", {}),
        "title": "Kanbot API",
        "description": "The REST API (docs/api.md) and the telephony API (docs/telephony-cloud.md).",
    }
    return document


def docs_page(document: dict[str, Any] | None = None) -> str:
    """A plain HTML list of the document's endpoints: no script, nothing from a CDN."""
    document = document or merged(calls_openapi())
    rows = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = ", ".join(operation.get("responses", {}))
            rows.append(
                f"<li><code>{html.escape(method.upper())} {html.escape(path)}</code> — "
                f"{html.escape(operation.get('summary', ''))} <small>({html.escape(codes)})</small></li>"
            )
    title = html.escape(document["info"]["title"])
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
        f'<body><h1>{title}</h1><p>The OpenAPI document: <a href="{OPENAPI_PATH}">{OPENAPI_PATH}</a>.'
        f"</p><ul>{''.join(rows)}</ul></body></html>"
    )
