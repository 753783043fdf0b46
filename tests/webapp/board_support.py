"""The board's API as the page calls it, on a small team: Olga the boss, sellers Ali, Maria (Russian)
and Omar (Arabic), a deal each for Ali and Maria and one nobody has taken in the inbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient

from crm_core.domain.deals import Deal
from crm_core.domain.users import User
from crm_core.services import Crm
from tests.conftest import T0
from tests.webapp.support import telegram_init_data

TOKEN = "700001:API-test-token"
BOSS, ALI, MARIA, OMAR, STRANGER = 1001, 2001, 2002, 2003, 9001


@dataclass
class Team:
    olga: User
    ali: User
    maria: User
    ali_deal: Deal
    maria_deal: Deal
    inbox_deal: Deal


@dataclass
class Board:
    """The API as the page calls it, as one user or another."""

    http: TestClient[Any, Any]
    crm: Crm
    team: Team
    wakes: list[int] = field(default_factory=list)

    def auth(self, telegram_id: int, language_code: str = "en") -> dict[str, str]:
        init = telegram_init_data(TOKEN, user_id=telegram_id, auth_date=T0, language_code=language_code)
        return {"Authorization": f"tma {init}"}

    async def get(self, path: str, as_user: int, *, status: int = 200) -> Any:
        response = await self.http.get(path, headers=self.auth(as_user))
        data = await response.json()
        assert response.status == status, data
        return data

    async def move(self, deal: Deal | int, as_user: int, *, status: int = 200, **body: Any) -> Any:
        deal_id = deal if isinstance(deal, int) else deal.id
        response = await self.http.post(
            f"/app/api/deals/{deal_id}/move", json=body, headers=self.auth(as_user)
        )
        data = await response.json()
        assert response.status == status, data
        return data


def stage_id(data: dict[str, Any], name: str) -> int:
    return int(next(c["stage"]["id"] for c in data["columns"] if c["stage"]["name"] == name))


def titles(data: dict[str, Any]) -> dict[str, list[str]]:
    return {c["stage"]["name"]: [d["title"] for d in c["deals"]] for c in data["columns"] if c["deals"]}


async def outbox(crm: Crm) -> list[dict[str, Any]]:
    async with crm.db.uow(write=False) as uow:
        return await uow.outbox.pending()


async def post(board: Board, path: str, as_user: int, *, status: int = 200, **body: Any) -> Any:
    response = await board.http.post(path, json=body, headers=board.auth(as_user))
    data = await response.json()
    assert response.status == status, data
    return data
