"""The board's Mini App over HTTP: its page, and a JSON API through the same services and roles as the chat.

``GET /app/board`` is the page. The API takes Telegram's launch data as ``Authorization: tma <initData>``:
``GET /app/api/board[?seller=<telegram id>]``, ``GET /app/api/deals/{id}``,
``POST /app/api/deals/{id}/move`` with ``{"to_stage_id", "version", "lost_reason"?, "lost_text"?}``,
``POST /app/api/deals/{id}/notes`` with ``{"text"}``, ``POST /app/api/deals/{id}/edit`` with
``{"field": "title" | "amount" | <a field key>, "value", "version"}``. Refusals are
``{"error": {"code", "message"}}`` in the user's language: 400 bad input, 401 no valid launch data,
403 not allowed, 404 a deal the user may not see, 409 the deal changed meanwhile.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.core.errors import explain, refusal_reason
from bot.core.field_words import field_name
from bot.core.i18n import Tr
from bot.webapp.auth import ApiError, Session, session_of
from bot.webapp.texts import page_texts, plain
from bot.webapp.views import JSON, deal_json, details_json, pipeline_json, stage_json
from crm_core.domain.deals import MAX_LOST_NOTE
from crm_core.domain.errors import (
    Conflict,
    CrmError,
    DealClosed,
    DealNotFound,
    InvalidInput,
    NotAllowed,
    NotFound,
    ReopensElsewhere,
    StaleVersion,
    Unavailable,
    Why,
)
from crm_core.domain.funnel import OTHER_REASON as OTHER
from crm_core.services import Crm
from crm_core.services.board_notices import tell_moved_on_board

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
MAX_BODY = 16_384  # a note of 3000 characters, in any script
SHEET_FIELDS = ("title", "amount")  # what the card's sheet edits; the chat edits the rest
COLUMN_LIMIT = 100  # cards per column; the column's count and sum still cover every deal
HISTORY_LIMIT = 50
MAX_ID = 2**31 - 1
MAX_TELEGRAM_ID = 2**53
NO_STORE = {"Cache-Control": "no-store"}
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

Endpoint = Callable[[web.Request, Session], Awaitable[JSON]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def webapp_routes(
    crm: Crm, *, bot_token: str, notify: Callable[[], None] | None = None
) -> list[web.AbstractRouteDef]:
    """The page, its files and its API, for Kanbot's HTTP server."""
    api = BoardApi(crm, notify)

    def endpoint(fn: Endpoint) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            tr: Tr | None = None
            try:
                session = await session_of(request, crm, bot_token)
                tr = session.tr
                return web.json_response(await fn(request, session), headers=NO_STORE)
            except ApiError as error:
                return _error(error.status, error.code, error.message)
            except CrmError as error:
                return _error(*refusal(error, tr or Tr("en")))

        return handle

    return [
        web.get("/app/board", _page),
        web.get("/app/api/board", endpoint(api.board)),
        web.get("/app/api/deals/{deal_id}", endpoint(api.deal)),
        web.post("/app/api/deals/{deal_id}/move", endpoint(api.move)),
        web.post("/app/api/deals/{deal_id}/notes", endpoint(api.note)),
        web.post("/app/api/deals/{deal_id}/edit", endpoint(api.edit)),
        web.post("/app/api/deals/{deal_id}/pipeline", endpoint(api.change_pipeline)),
        web.static("/app/static", STATIC_DIR),
    ]


async def _page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "board.html", headers=PAGE_HEADERS)


class BoardApi:
    def __init__(self, crm: Crm, notify: Callable[[], None] | None) -> None:
        self.crm, self.notify = crm, notify

    async def board(self, request: web.Request, s: Session) -> JSON:
        """The columns with their deals as the user may see them, of one funnel (``?pipeline=``, else the
        one last used, else the default); a boss may pick one seller's."""
        crm, tr, user = self.crm, s.tr, s.user
        seller = _query_id(request, "seller")
        funnels = await crm.pipelines.list()
        chosen = _query_id(request, "pipeline")
        if chosen is None and len(funnels) > 1:
            last = (await crm.followups.preferences(actor=user)).last_pipeline_id
            chosen = last if any(f.id == last for f in funnels) else None
        elif chosen is not None:
            if not any(f.id == chosen for f in funnels):
                raise NotFound("pipeline", chosen)
            await crm.followups.remember_pipeline(actor=user, pipeline_id=chosen)
        board = await crm.deals.board(actor=user, owner_telegram_id=seller, pipeline=chosen)
        now, currency = crm.clock.now(), crm.config.default_currency
        columns = []
        for column in board.columns:
            _, page = await crm.deals.column(
                stage=column.stage.id, actor=user, owner_telegram_id=seller, limit=COLUMN_LIMIT
            )
            columns.append(
                {
                    "stage": stage_json(column.stage, tr),
                    "count": column.count,
                    "unassigned": column.unassigned,
                    "amount": str(column.amount),
                    "amount_text": tr.money(column.amount, currency) if column.amount else "",
                    "deals": [deal_json(d, viewer=user, tr=tr, now=now) for d in page.items],
                    "more": max(column.count + column.unassigned - len(page.items), 0),
                }
            )
        people = await crm.users.list(actor=user, active=True) if user.is_boss else []
        reasons = await crm.pipelines.lost_reasons()
        whose = next((p.name for p in people if p.telegram_id == seller), None) if seller else None
        return {
            "me": {"telegram_id": user.telegram_id, "name": user.name, "is_boss": user.is_boss},
            "locale": tr.locale,
            "rtl": tr.rtl,
            "texts": page_texts(tr),
            "whose": whose or plain(tr("all deals") if user.is_boss else tr("your deals")),
            "seller": seller,
            "pipeline": pipeline_json(board.pipeline),
            "pipelines": [pipeline_json(f) for f in funnels] if len(funnels) > 1 else [],
            "sellers": [{"telegram_id": p.telegram_id, "name": p.name} for p in people],
            "open": {
                "count": board.open_count,
                "amount_text": tr.money(board.open_amount, currency),
                "unassigned": board.unassigned,
                "unassigned_text": plain(
                    tr.ngettext("{n} unassigned to take", "{n} unassigned to take", board.unassigned)
                )
                if board.unassigned
                else "",
            },
            "lost_reasons": [{"value": r, "label": plain(tr(r))} for r in reasons if r != OTHER],
            "other": OTHER,
            "columns": columns,
        }

    async def deal(self, request: web.Request, s: Session) -> JSON:
        """One deal in full, with its history newest first."""
        deal_id = _deal_id(request)
        found = await self.crm.deals.details(deal_id=deal_id, actor=s.user)
        history = await self.crm.deals.history(
            deal_id=deal_id, actor=s.user, newest_first=True, limit=HISTORY_LIMIT
        )
        funnels = await self.crm.pipelines.list()
        full = details_json(found, history, viewer=s.user, tr=s.tr, now=self.crm.clock.now(), funnels=funnels)
        return {"deal": full}

    async def move(self, request: web.Request, s: Session) -> JSON:
        """Move a deal to a stage, as the chat does; the chat then shows the card with a notice."""
        deal_id = _deal_id(request)
        body = await _body(request)
        to_stage = _int(body, "to_stage_id")
        version = _int(body, "version")
        lost_reason, lost_note = await self._lost_reason(body)
        deal = await self.crm.deals.move(
            deal_id=deal_id,
            to_stage=to_stage,
            actor=s.user,
            expected_version=version,
            lost_reason=lost_reason,
            lost_note=lost_note,
        )
        try:
            await tell_moved_on_board(self.crm, deal=deal, actor=s.user)
        except Exception:  # the move stands; only the chat's echo of it is lost
            log.exception("board app: could not queue the note about moving deal %s", deal.id)
        if self.notify is not None:
            self.notify()
        return {"deal": deal_json(deal, viewer=s.user, tr=s.tr, now=self.crm.clock.now())}

    async def note(self, request: web.Request, s: Session) -> JSON:
        """Write a note in the deal's history, as the chat's Note does; the answer is the deal in full."""
        deal_id = _deal_id(request)
        text = (await _body(request)).get("text")
        if not isinstance(text, str):
            raise InvalidInput("note", text, Why.TEXT_EXPECTED)
        await self.crm.deals.add_note(deal_id=deal_id, text=text, actor=s.user)
        return await self.deal(request, s)

    async def edit(self, request: web.Request, s: Session) -> JSON:
        """Change the title, the amount or one of the team's own fields, as the chat's Edit does, unless
        the deal changed since ``version``; the answer is the deal in full."""
        deal_id = _deal_id(request)
        body = await _body(request)
        field, value = body.get("field"), body.get("value")
        own = {d.key: d for d in await self.crm.fields.definitions()}
        if field not in SHEET_FIELDS and field not in own:
            raise InvalidInput("field", field, Why.NOT_VALID)
        if not isinstance(value, str):
            raise InvalidInput(str(field), value, Why.TEXT_EXPECTED)
        if field in own:  # one of the team's own fields: "" clears it
            definition = own[str(field)]
            try:
                await self.crm.deals.set_field(
                    deal_id=deal_id,
                    key=definition.key,
                    value=value,
                    actor=s.user,
                    expected_version=_int(body, "version"),
                )
            except InvalidInput as error:  # said with the field's name in the user's language
                words = s.tr(
                    "That {field} doesn't work: {reason}.",
                    field=field_name(definition, s.tr),
                    reason=refusal_reason(error, s.tr),
                )
                raise ApiError(400, "invalid", plain(words)) from None
            return await self.deal(request, s)
        await self.crm.deals.edit(
            deal_id=deal_id,
            field=str(field),
            value=value,
            actor=s.user,
            expected_version=_int(body, "version"),
        )
        return await self.deal(request, s)

    async def change_pipeline(self, request: web.Request, s: Session) -> JSON:
        """Move a deal to another funnel (to ``stage_id`` of it, or where the core puts it), as the chat's
        "Another funnel…" does, unless the deal changed since ``version``; the answer is the deal in full."""
        deal_id = _deal_id(request)
        body = await _body(request)
        pipeline_id = _int(body, "pipeline_id")
        stage_id = body.get("stage_id")
        if stage_id is not None and (not isinstance(stage_id, int) or isinstance(stage_id, bool)):
            raise InvalidInput("stage_id", stage_id, Why.NOT_VALID)
        await self.crm.deals.change_pipeline(
            actor=s.user,
            deal_id=deal_id,
            pipeline=pipeline_id,
            stage=stage_id,
            expected_version=_int(body, "version"),
        )
        await self.crm.followups.remember_pipeline(actor=s.user, pipeline_id=pipeline_id)
        if self.notify is not None:
            self.notify()
        return await self.deal(request, s)

    async def _lost_reason(self, body: dict[str, Any]) -> tuple[str | None, str | None]:
        """One of the configured reasons, or "Other" and the user's words; None when none is given."""
        reason, text = body.get("lost_reason"), body.get("lost_text")
        if reason is None:
            return None, None
        if not isinstance(reason, str):
            raise InvalidInput("lost reason", reason, Why.NOT_VALID)
        if reason == OTHER:
            words = " ".join(text.split())[:MAX_LOST_NOTE] if isinstance(text, str) else ""
            if not words:
                raise InvalidInput("lost reason", text, Why.EMPTY)
            return OTHER, words
        if reason not in await self.crm.pipelines.lost_reasons():
            raise InvalidInput("lost reason", reason, Why.NOT_VALID)
        return reason, None


def refusal(error: CrmError, tr: Tr) -> tuple[int, str, str]:
    """The status, code and sentence of a refusal by the CRM."""
    if isinstance(error, DealNotFound):
        return 404, "not_found", plain(explain(error, tr))
    if isinstance(error, NotFound) and error.what == "stage":
        return 400, "invalid", plain(tr("That stage is no longer on the board — reload it."))
    if isinstance(error, NotAllowed):
        return 403, "not_allowed", plain(explain(error, tr))
    if isinstance(error, StaleVersion):
        return 409, "stale", plain(tr("The deal changed meanwhile — the board now shows it as it is."))
    if isinstance(error, DealClosed | Conflict | ReopensElsewhere):
        return 409, error.code, plain(explain(error, tr))
    if isinstance(error, Unavailable):
        return 503, error.code, plain(explain(error, tr))
    return 400, "invalid" if isinstance(error, InvalidInput) else error.code, plain(explain(error, tr))


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=NO_STORE)


def _deal_id(request: web.Request) -> int:
    raw = request.match_info["deal_id"]
    if not (raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID):
        raise DealNotFound(raw[:20])
    return int(raw)


def _query_id(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name, "").strip()
    if not raw or raw == "0":
        return None
    if not (raw.isascii() and raw.isdigit() and int(raw) < MAX_TELEGRAM_ID):
        raise InvalidInput("owner", raw[:20], Why.NOT_VALID)
    return int(raw)


async def _body(request: web.Request) -> dict[str, Any]:
    """The JSON object of the request, at most ``MAX_BODY`` bytes; anything else is a 400 or 413."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, "too_large", "The request is too large.")
    data = b""
    while len(data) <= MAX_BODY:
        chunk = await request.content.read(MAX_BODY + 1 - len(data))
        if not chunk:
            break
        data += chunk
    if len(data) > MAX_BODY:
        raise ApiError(413, "too_large", "The request is too large.")
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid", "The request is not JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid", "The request is not a JSON object.")
    return body


def _int(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
        raise InvalidInput("stage" if name == "to_stage_id" else "version", value, Why.NOT_VALID)
    return value
