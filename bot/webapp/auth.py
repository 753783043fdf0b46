"""Who is calling the board's API: the Telegram user of a valid ``Authorization: tma <initData>``."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web

from bot.core.i18n import Tr
from bot.webapp.initdata import InitData, InvalidInitData, validate
from bot.webapp.texts import plain, unauthorized_text
from crm_core.domain.users import User
from crm_core.services import Crm

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refusal the API answers as ``{"error": {"code", "message"}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True, slots=True)
class Session:
    """One request's caller: the CRM user, their words, and the launch data that vouched for them."""

    user: User
    tr: Tr
    init: InitData


async def session_of(request: web.Request, crm: Crm, bot_token: str) -> Session:
    """The caller, or ``ApiError``: 401 without valid launch data, 403 for people outside the team."""
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    refused = ApiError(401, "unauthorized", unauthorized_text(request.headers.get("Accept-Language", "")))
    if scheme.lower() != "tma" or not raw.strip():
        raise refused
    try:
        init = validate(raw.strip(), bot_token=bot_token, now=crm.clock.now())
    except InvalidInitData as error:
        log.info("board app: refused launch data (%s) from %s", error, request.remote)
        raise refused from None
    user = await crm.users.by_telegram_id(init.user.id)
    if user is None or not user.active:
        tr = Tr(init.user.language_code or "en")
        if user is None:
            text = tr("Sorry, this is a private sales CRM: I only work for members of the team.")
        else:
            text = tr("Your access to this CRM has been switched off. Ask your manager if that's a mistake.")
        raise ApiError(403, "not_member", plain(text))
    return Session(user, Tr(user.locale, user.timezone), init)
