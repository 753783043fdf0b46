"""The REST API's other handlers: a deal's changes (edit, move, won, lost, reopen, notes, history),
tasks, and the team's pipelines, fields and users (read).

Each change takes the deal's version from ``If-Match`` or a ``version`` field (a stale one is 409 with
the current version, and changes nothing) and an ``Idempotency-Key`` like a create. Every answer has
the shape the CLI's ``--json`` prints.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from crm_core.domain.api_tokens import ApiToken
from crm_core.domain.deals import Deal
from crm_core.domain.errors import CrmError, NotAllowed, NotFound, StaleVersion
from crm_core.domain.users import User
from crm_core.services import Crm
from kanbot.api.bodies import (
    ContactPatch,
    DealPatch,
    LostIn,
    MoveIn,
    NewContact,
    NoteIn,
    TaskIn,
    VersionIn,
)
from kanbot.api.openapi import CONTACTS_PATH, DEALS_PATH, FIELDS_PATH, PIPELINES_PATH, TASKS_PATH, USERS_PATH
from kanbot.api.routes import (
    MAX_ID,
    BadRequest,
    Limiter,
    after_id,
    answer,
    authed,
    body_of,
    cursor_of,
    id_in,
    idempotent,
    moment,
    refusal,
)
from kanbot.cli.render import contact_json, history_json, shown_deal_json, task_json, user_json

Answer = tuple[int, object]
CHANGE_FIELDS = {"user": "owner_telegram_id", "pipeline": "pipeline", "stage": "stage", "field": "fields"}


def deal_id_of(request: web.Request) -> int:
    """The path's deal id; one that cannot be a deal's is "not found", as a deal the user may not see."""
    raw = request.match_info["id"]
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        from crm_core.domain.errors import DealNotFound

        raise DealNotFound(raw)
    return int(raw)


def version_of(request: web.Request, in_body: int | None) -> int | None:
    """The version the client last read: ``If-Match`` (``3``, ``"3"`` or ``W/"3"``) or the body's."""
    header = request.headers.get("If-Match")
    if header is None:
        return in_body
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 2**53:
        raise BadRequest("If-Match", "the deal's version, a whole number")
    if in_body is not None and in_body != int(text):
        raise BadRequest("version", "differs from If-Match")
    return int(text)


def resource_routes(crm: Crm, *, limiter: Limiter | None = None) -> list[web.RouteDef]:
    """The routes of a deal's changes, tasks, pipelines, fields and users."""

    async def changed(
        user: User,
        deal_id: int,
        change: Callable[[], Awaitable[Deal]],
        fields: dict[str, str] = CHANGE_FIELDS,
    ) -> Answer:
        """``change()``'s deal as `deal show --json` prints it, or its refusal; a stale version: 409
        with the deal's current version."""
        try:
            deal = await change()
        except StaleVersion:
            current = await crm.deals.get(deal_id=deal_id, actor=user)
            return 409, {
                "error": StaleVersion.code,
                "message": f"Deal {deal_id} changed meanwhile: reload it and try again.",
                "field": "version",
                "reason": "stale",
                "current_version": current.version,
            }
        except CrmError as error:
            return refusal(error, fields)
        return 200, await shown_deal_json(crm, user, deal.id)

    async def edit_deal(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """Change the title, amount, currency, own fields and owner: all of them, or none."""
        deal_id = deal_id_of(request)
        patch, data = await body_of(request, DealPatch)
        version = version_of(request, patch.version)
        changes, own = patch.changes(), patch.field_texts()
        owner_given = "owner_telegram_id" in patch.model_fields_set
        if not changes and not own and not owner_given:
            raise BadRequest("body", "give title, amount, currency, fields or owner_telegram_id")
        if owner_given and not user.is_boss:
            raise NotAllowed("reassign deals")
        if (
            patch.owner_telegram_id is not None
            and await crm.users.by_telegram_id(patch.owner_telegram_id) is None
        ):
            raise BadRequest("owner_telegram_id", "no such user")  # before the edit: all of it or none

        async def run() -> Answer:
            async def change() -> Deal:
                expected = version
                deal = None
                if changes or own:
                    deal = await crm.deals.edit_fields(
                        deal_id=deal_id, changes=changes, own=own, actor=user, expected_version=expected
                    )
                    expected = deal.version
                if owner_given:
                    deal = await crm.deals.reassign(
                        deal_id=deal_id,
                        owner_telegram_id=patch.owner_telegram_id,
                        actor=user,
                        expected_version=expected,
                    )
                assert deal is not None
                return deal

            return await changed(user, deal_id, change)

        return answer(*await idempotent(crm, request, token, data, run))

    async def move_deal(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """Move the deal to a stage, or to a stage of another pipeline, as `kanbot deal move` does."""
        deal_id = deal_id_of(request)
        move, data = await body_of(request, MoveIn)
        version = version_of(request, move.version)

        async def run() -> Answer:
            async def change() -> Deal:
                if move.pipeline is not None:
                    target = await crm.pipelines.get(move.pipeline)
                    current = await crm.deals.get(deal_id=deal_id, actor=user)
                    if current.pipeline_id != target.id:
                        return await crm.deals.change_pipeline(
                            deal_id=deal_id,
                            pipeline=target.id,
                            stage=move.stage,
                            actor=user,
                            expected_version=version,
                        )
                return await crm.deals.move(
                    deal_id=deal_id,
                    to_stage=move.stage,
                    actor=user,
                    expected_version=version,
                    lost_reason=move.reason,
                    lost_note=move.note,
                )

            return await changed(user, deal_id, change)

        return answer(*await idempotent(crm, request, token, data, run))

    async def won_deal(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """Close the deal as won."""
        deal_id = deal_id_of(request)
        body, data = await body_of(request, VersionIn, optional=True)
        version = version_of(request, body.version)

        async def run() -> Answer:
            return await changed(
                user,
                deal_id,
                lambda: crm.deals.mark_won(deal_id=deal_id, actor=user, expected_version=version),
            )

        return answer(*await idempotent(crm, request, token, data, run))

    async def lost_deal(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """Close the deal as lost, for one of the team's reasons."""
        deal_id = deal_id_of(request)
        lost, data = await body_of(request, LostIn)
        version = version_of(request, lost.version)

        async def run() -> Answer:
            return await changed(
                user,
                deal_id,
                lambda: crm.deals.mark_lost(
                    deal_id=deal_id, reason=lost.reason, note=lost.note, actor=user, expected_version=version
                ),
            )

        return answer(*await idempotent(crm, request, token, data, run))

    async def reopen_deal(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """Open a won or lost deal again, in the stage it was closed from."""
        deal_id = deal_id_of(request)
        body, data = await body_of(request, VersionIn, optional=True)
        version = version_of(request, body.version)

        async def run() -> Answer:
            return await changed(
                user, deal_id, lambda: crm.deals.reopen(deal_id=deal_id, actor=user, expected_version=version)
            )

        return answer(*await idempotent(crm, request, token, data, run))

    async def add_note(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """A note on the deal; 201 with the deal."""
        deal_id = deal_id_of(request)
        note, data = await body_of(request, NoteIn)

        async def run() -> Answer:
            status, body = await changed(
                user,
                deal_id,
                lambda: crm.deals.add_note(deal_id=deal_id, text=note.text, actor=user),
                {"note": "text"},
            )
            return (201 if status == 200 else status), body

        return answer(*await idempotent(crm, request, token, data, run))

    async def deal_history(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """Everything that happened to the deal, oldest first, as `kanbot deal history --json`."""
        events = await crm.deals.history(deal_id=deal_id_of(request), actor=user)
        return web.json_response(await history_json(crm, events))

    async def list_tasks(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """Open tasks, as `kanbot task list --json`: the user's own (a boss: everyone's)."""
        query = request.query
        deal_id = id_in(query["deal_id"], "deal_id") if "deal_id" in query else None
        if query.get("open", "true").lower() != "true":
            raise BadRequest("open", "only open tasks are listed: leave it out or give true")
        tasks = await crm.tasks.open_tasks(actor=user, everyone=user.is_boss, limit=500)
        return web.json_response([task_json(t) for t in tasks if deal_id is None or t.deal_id == deal_id])

    async def add_task(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """Plan a task on a deal; 201 with it, as `kanbot task add --json` prints it."""
        task_in, data = await body_of(request, TaskIn)
        due = moment(task_in.due_at, "due_at")
        assert due is not None

        async def run() -> Answer:
            try:
                task = await crm.tasks.add(
                    deal_id=task_in.deal_id,
                    due_at=due,
                    text=task_in.text,
                    actor=user,
                    assignee_telegram_id=task_in.assignee_telegram_id,
                )
            except CrmError as error:
                return refusal(error, TASK_FIELDS)
            return 201, task_json(task)

        return answer(*await idempotent(crm, request, token, data, run))

    async def task_done(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """Mark the task done, as `kanbot task done --json`."""
        task_id = id_in(request.match_info["id"], "id")

        async def run() -> Answer:
            try:
                task = await crm.tasks.complete(task_id=task_id, actor=user)
            except CrmError as error:
                if getattr(error, "what", None) == "task":
                    return 404, {"error": error.code, "message": str(error), "field": None, "reason": None}
                return refusal(error, TASK_FIELDS)
            return 200, task_json(task)

        return answer(*await idempotent(crm, request, token, {}, run))

    async def pipelines(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """The pipelines, their stages and the own fields, as `kanbot pipeline show --json` prints them."""
        document = await crm.pipelines.document(actor=user)
        document["fields"] = await crm.fields.document(actor=user)
        return web.json_response(document)

    async def fields(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """The team's own fields, as the `fields` of `kanbot pipeline show --json`."""
        return web.json_response(await crm.fields.document(actor=user))

    async def users(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """The team as `kanbot user list --json` prints it; a seller sees themselves, as in /team."""
        return web.json_response([user_json(u) for u in await crm.users.list(actor=user)])

    async def list_contacts(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """A page of the contacts the token's user may see, by id; ``?q=`` a name or a phone."""
        query = request.query
        for name, value in query.items():
            if "\x00" in value or "\x00" in name:
                raise BadRequest(name, "no NUL characters")
        limit = id_in(query["limit"], "limit") if "limit" in query else 50
        found, more = await crm.contacts.page(
            actor=user, query=query.get("q"), after_id=after_id(query.get("cursor")), limit=limit
        )
        next_cursor = cursor_of(found[-1].id) if more and found else None
        return web.json_response({"items": [contact_json(c) for c in found], "next_cursor": next_cursor})

    async def get_contact(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """One contact, or 404 when the token's user may not see it."""
        raw = request.match_info["id"]
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
            raise NotFound("contact", raw)
        return web.json_response(contact_json(await crm.contacts.get(contact_id=int(raw), actor=user)))

    async def add_contact(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """A customer without a deal yet (bosses only); 201 with it."""
        new, data = await body_of(request, NewContact)

        async def run() -> Answer:
            try:
                contact = await crm.contacts.create(
                    name=new.name, phone=new.phone, company=new.company, actor=user
                )
            except CrmError as error:
                return refusal(error, CONTACT_FIELDS)
            return 201, contact_json(contact)

        return answer(*await idempotent(crm, request, token, data, run))

    async def edit_contact(request: web.Request, user: User, token: ApiToken) -> web.StreamResponse:
        """Change a contact's name, phone or company, for every deal of theirs."""
        raw = request.match_info["id"]
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
            raise NotFound("contact", raw)
        patch, data = await body_of(request, ContactPatch)
        changes = patch.changes()
        if not changes:
            raise BadRequest("body", "give name, phone or company")

        async def run() -> Answer:
            try:
                contact = await crm.contacts.edit(contact_id=int(raw), changes=changes, actor=user)
            except NotFound as error:
                if error.what != "contact":
                    return refusal(error, CONTACT_FIELDS)
                return 404, {"error": error.code, "message": str(error), "field": None, "reason": None}
            except CrmError as error:
                return refusal(error, CONTACT_FIELDS)
            return 200, contact_json(contact)

        return answer(*await idempotent(crm, request, token, data, run))

    def route(handler: Any, *, write: bool = False, found: frozenset[str] = frozenset()) -> Any:
        return authed(crm, handler, write=write, fields=CHANGE_FIELDS, limiter=limiter, found=found)

    one = DEALS_PATH + "/{id}"
    return [
        web.patch(one, route(edit_deal, write=True)),
        web.post(one + "/move", route(move_deal, write=True)),
        web.post(one + "/won", route(won_deal, write=True)),
        web.post(one + "/lost", route(lost_deal, write=True)),
        web.post(one + "/reopen", route(reopen_deal, write=True)),
        web.post(one + "/notes", route(add_note, write=True)),
        web.get(one + "/history", route(deal_history)),
        web.get(TASKS_PATH, route(list_tasks)),
        web.post(TASKS_PATH, authed(crm, add_task, write=True, fields=TASK_FIELDS, limiter=limiter)),
        web.post(TASKS_PATH + "/{id}/done", route(task_done, write=True, found=frozenset({"task"}))),
        web.get(PIPELINES_PATH, route(pipelines)),
        web.get(FIELDS_PATH, route(fields)),
        web.get(USERS_PATH, route(users)),
        web.get(CONTACTS_PATH, authed(crm, list_contacts, fields=CONTACT_FIELDS, limiter=limiter)),
        web.post(CONTACTS_PATH, authed(crm, add_contact, write=True, fields=CONTACT_FIELDS, limiter=limiter)),
        web.get(CONTACTS_PATH + "/{id}", route(get_contact, found=frozenset({"contact"}))),
        web.patch(CONTACTS_PATH + "/{id}", route(edit_contact, write=True, found=frozenset({"contact"}))),
    ]


CONTACT_FIELDS = {"search": "q", "limit": "limit", "contact": "name", "contact name": "name"}
TASK_FIELDS = {"user": "assignee_telegram_id", "due time": "due_at", "text": "text", "task": "text"}
