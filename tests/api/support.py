"""A small client of the REST API, as another system would call it: a bearer token, JSON in and out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from crm_core.domain.api_tokens import TokenScope
from crm_core.services import Crm


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Api:
    session: aiohttp.ClientSession
    url: str

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        async with self.session.request(
            method, self.url + path, json=json, data=data, headers=sent, params=params
        ) as response:
            text = await response.text()
            body = (
                await response.json(content_type=None)
                if text and response.content_type == "application/json"
                else text
            )
            return Answer(response.status, body, dict(response.headers))


async def token_of(crm: Crm, telegram_id: int, *, scope: str = "write", expires: str | None = None) -> str:
    """A real token of the user's, made as `kanbot token create` makes it; its secret."""
    user = await crm.users.identify(telegram_id)
    made = await crm.api_tokens.create(
        actor=user, name=f"test {telegram_id}", scope=TokenScope(scope), expires=expires
    )
    return made.secret
