"""``POST /api/v1/leads``: a website's form drops a lead into the CRM, from a browser or a server.

The body is JSON, or a form post (``application/x-www-form-urlencoded`` or ``multipart/form-data``;
own fields as ``fields.<key>``). 202 ``{"deal_id", "created"}``. Spam is refused politely:

* the honeypot: a ``website`` field that people never see and never fill. A filled one is answered
  202 ``{"deal_id": null, "created": false}`` -- the robot believes it succeeded -- and nothing is made;
* a per-address limit: past ``KANBOT_FORM_POSTS_PER_WINDOW`` posts in ``KANBOT_FORM_WINDOW_SECONDS``,
  429 with ``Retry-After``;
* a size limit: a body past ``MAX_LEAD_BYTES`` is 413.

A wrong or removed form key is 404; bad input 400 with the field. Browsers may post from the origins
in ``KANBOT_FORM_ORIGINS`` (CORS, with the preflight ``OPTIONS``); a post or preflight from another
origin is 403. A post without an ``Origin`` (a server) is taken.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from crm_core.domain.errors import CrmError, InvalidInput
from crm_core.domain.web_forms import FormNotFound, Lead
from crm_core.services import Crm
from kanbot.api.bodies import FieldValue, field_text, first_problem, nul_in
from kanbot.api.routes import BadRequest, answer, problem, refusal

LEADS_PATH = "/api/v1/leads"
MAX_LEAD_BYTES = 16 * 1024
HONEYPOT = "website"
LEAD_FIELDS = ("name", "phone", "email", "message")
Text = StrictStr


class LeadIn(BaseModel):
    """A lead from a web form."""

    model_config = ConfigDict(extra="forbid", title="Lead")

    form_key: Text = Field(description="The form's key, as `kanbot form create` printed it.")
    name: Text = Field(description="The visitor's name.")
    phone: Text | None = Field(None, description="Their phone, any format: a known number joins its deal.")
    email: Text | None = Field(None, description="Their e-mail address.")
    message: Text | None = Field(None, description="What they wrote: a note on the deal.")
    fields: dict[StrictStr, FieldValue] | None = Field(None, description="The team's own fields, by key.")
    website: Text | None = Field(None, description="The honeypot: leave it empty (hidden from people).")

    def lead(self) -> Lead:
        fields = {key: field_text(value) for key, value in (self.fields or {}).items()}
        return Lead(name=self.name, phone=self.phone, email=self.email, message=self.message, fields=fields)


class PostLimit:
    """At most ``limit`` posts per address in any ``window_s`` seconds (remembered in this process)."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._posts: dict[str, deque[float]] = {}

    def wait_s(self, address: str) -> int:
        """0 and the post counted, or how many seconds ``address`` must wait."""
        now = self.clock()
        if len(self._posts) > 10_000:  # forget the addresses that went quiet
            self._posts = {a: p for a, p in self._posts.items() if p and p[-1] > now - self.window_s}
        posts = self._posts.setdefault(address, deque())
        while posts and posts[0] <= now - self.window_s:
            posts.popleft()
        if len(posts) >= self.limit:
            return max(1, math.ceil(posts[0] + self.window_s - now))
        posts.append(now)
        return 0


def lead_routes(
    crm: Crm, *, origins: Iterable[str], limit: PostLimit, wake: Callable[[], None] = lambda: None
) -> list[web.RouteDef]:
    """The lead endpoint and its CORS preflight; ``wake`` hurries the outbox (the seller's notice)."""
    allowed = {origin.rstrip("/") for origin in origins}

    def cors(request: web.Request) -> dict[str, str] | None:
        """The CORS headers for the request's origin; None when it comes from an origin not allowed."""
        origin = request.headers.get("Origin")
        if origin is None:
            return {}
        if origin.rstrip("/") not in allowed:
            return None
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    async def preflight(request: web.Request) -> web.StreamResponse:
        """Let a configured website's page post leads from the browser."""
        headers = cors(request)
        if not headers:
            return web.Response(status=403, headers={"Vary": "Origin"})
        headers |= {
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        }
        return web.Response(status=204, headers=headers)

    async def post_lead(request: web.Request) -> web.StreamResponse:
        """Make or join the lead's deal; 202 ``{"deal_id", "created"}``."""
        headers = cors(request)
        if headers is None:
            return problem(403, "origin_not_allowed", "This website may not post leads here.")
        wait = limit.wait_s(request.remote or "?")
        if wait:
            response = problem(429, "too_many", f"Too many posts; try again in {wait} s.")
            response.headers.update(headers | {"Retry-After": str(wait)})
            return response
        status, body = await take(request)
        response = answer(status, body)
        response.headers.update(headers)
        return response

    async def take(request: web.Request) -> tuple[int, dict[str, Any]]:
        try:
            lead_in = parsed(await body_of(request))
            if lead_in.website and lead_in.website.strip():
                return 202, {"deal_id": None, "created": False}
            taken = await crm.web_forms.take_lead(key=lead_in.form_key, lead=lead_in.lead())
        except BadRequest as bad:
            return bad.status, error_body(bad.error, str(bad), bad.field, bad.reason)
        except FormNotFound:
            return 404, error_body("form_not_found", "No form has this key.", "form_key", "no such form")
        except InvalidInput as error:
            status, body = refusal(error)
            body["field"] = lead_field(error)
            return status, body
        except CrmError as error:
            return refusal(error)
        wake()
        return 202, {"deal_id": taken.deal_id, "created": taken.created}

    return [web.post(LEADS_PATH, post_lead), web.options(LEADS_PATH, preflight)]


def error_body(error: str, message: str, field: str | None, reason: str | None) -> dict[str, Any]:
    return {"error": error, "message": message, "field": field, "reason": reason}


def lead_field(error: InvalidInput) -> str:
    """The request's field an ``InvalidInput`` came from: ``name``, ``phone``, ``fields.<key>``."""
    if error.field in LEAD_FIELDS:
        return error.field
    if error.field == "note":
        return "message"
    return "fields." + (str(error.value) if error.field == "field" else error.field)


def parsed(data: object) -> LeadIn:
    if not isinstance(data, dict):
        raise BadRequest("body", "a JSON object or a form")
    where = nul_in(data)
    if where is not None:
        raise BadRequest(where, "no NUL characters")
    try:
        return LeadIn.model_validate(data)
    except ValidationError as error:
        field, reason = first_problem(error)
        raise BadRequest(field, reason) from None


async def body_of(request: web.Request) -> object:
    """The lead as a dict, from JSON, a URL-encoded form or a multipart form; 413 past the limit."""
    too_large = BadRequest(None, f"at most {MAX_LEAD_BYTES} bytes", status=413, error="too_large")
    if request.content_length is not None and request.content_length > MAX_LEAD_BYTES:
        raise too_large
    if request.content_type == "multipart/form-data":
        return form_fields(await multipart_pairs(request, too_large))
    raw = bytearray()
    async for chunk in request.content.iter_chunked(4096):
        raw += chunk
        if len(raw) > MAX_LEAD_BYTES:
            raise too_large
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("body", "not UTF-8") from None
    if request.content_type == "application/x-www-form-urlencoded":
        return form_fields(parse_qsl(text, keep_blank_values=True))
    try:
        data: object = json.loads(text)
        return data
    except ValueError:
        raise BadRequest("body", "the body is not JSON") from None


async def multipart_pairs(request: web.Request, too_large: BadRequest) -> list[tuple[str, str]]:
    pairs, size = [], 0
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.filename is not None:
            raise BadRequest(getattr(part, "name", None) or "body", "files are not taken")
        value = bytearray()
        while chunk := await part.read_chunk(4096):
            size += len(chunk)
            if size > MAX_LEAD_BYTES:
                raise too_large
            value += chunk
        try:
            pairs.append((part.name or "", bytes(value).decode("utf-8")))
        except UnicodeDecodeError:
            raise BadRequest(part.name or "body", "not UTF-8") from None
    return pairs


def form_fields(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """A form's pairs as the JSON body: ``fields.<key>`` (or ``fields[key]``) into ``fields``; empty
    optional inputs left out; a repeated own field is a list."""
    body: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for name, value in pairs:
        key = own_field(name)
        if key is not None:
            if key in fields:
                earlier = fields[key]
                fields[key] = [*earlier, value] if isinstance(earlier, list) else [earlier, value]
            else:
                fields[key] = value
        elif name in body:
            raise BadRequest(name, "given twice")
        elif value != "" or name in ("form_key", "name"):
            body[name] = value
    if fields:
        body["fields"] = fields
    return body


def own_field(name: str) -> str | None:
    if name.startswith("fields."):
        return name[len("fields.") :]
    if name.startswith("fields[") and name.endswith("]"):
        return name[len("fields[") : -1]
    return None
