"""The board's API over HTTP: Telegram's launch data is the only credential, and the chat's roles hold."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.core.i18n import Tr
from bot.webapp.api import refusal
from crm_core.domain.errors import Unavailable
from crm_core.domain.history import EventKind
from crm_core.domain.notifications import NoteKind
from tests.conftest import T0
from tests.webapp.board_support import (
    ALI,
    BOSS,
    MARIA,
    OMAR,
    STRANGER,
    TOKEN,
    Board,
    outbox,
    stage_id,
    titles,
)
from tests.webapp.support import sign_fields, telegram_init_data

# -- who may call ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "tma",
        "tma ",
        "Bearer abc",
        "tma query_id=1&user=%7B%22id%22%3A2001%7D&auth_date=1772442000&hash=" + "0" * 64,
        "tma " + telegram_init_data("700002:another-bot", user_id=ALI, auth_date=T0),
        "tma " + telegram_init_data(TOKEN, user_id=ALI, auth_date=T0 - timedelta(minutes=61)),
        "tma " + telegram_init_data(TOKEN, user_id=ALI, auth_date=T0 + timedelta(minutes=5)),
        # signed with the bot's token, but dated past what a date holds (year 33658, year 10000)
        "tma " + sign_fields(TOKEN, {"user": json.dumps({"id": ALI}), "auth_date": "999999999999"}),
        "tma " + sign_fields(TOKEN, {"user": json.dumps({"id": ALI}), "auth_date": "253402300800"}),
    ],
)
async def test_a_request_without_valid_launch_data_gets_401(board: Board, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path in [
        ("GET", "/app/api/board"),
        ("GET", "/app/api/deals/1"),
        ("POST", "/app/api/deals/1/move"),
    ]:
        response = await board.http.request(
            method, path, headers=headers, json={"to_stage_id": 2, "version": 1}
        )
        data = await response.json()
        assert response.status == 401, (method, path, data)
        assert data["error"]["code"] == "unauthorized"
        assert "Telegram" in data["error"]["message"]
    assert (
        await board.crm.deals.get(deal_id=board.team.ali_deal.id, actor=board.team.ali) == board.team.ali_deal
    )


async def test_the_refusal_speaks_the_browsers_language(board: Board) -> None:
    response = await board.http.get("/app/api/board", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert response.status == 401
    assert "Telegram" in (await response.json())["error"]["message"]


async def test_someone_outside_the_team_is_refused_with_403(board: Board) -> None:
    data = await board.get("/app/api/board", STRANGER, status=403)
    assert data["error"]["code"] == "not_member"


# -- what one sees ---------------------------------------------------------------------------------


async def test_a_sellers_board_has_their_deals_and_the_unassigned_inbox_only(board: Board) -> None:
    data = await board.get("/app/api/board", ALI)
    assert titles(data) == {"Opportunity": ["ACME: 20 IP phones"], "Unsorted": ["Missed call +7 495"]}
    assert [c["stage"]["name"] for c in data["columns"]][:2] == ["Unsorted", "Opportunity"]
    opportunity = next(c for c in data["columns"] if c["stage"]["name"] == "Opportunity")
    assert opportunity["count"] == 1 and opportunity["amount_text"] == "₽1,500"
    card = opportunity["deals"][0]
    assert card["contact"] == "Ivan Petrov" and card["amount_text"] == "₽1,500"
    assert card["movable"] is True and card["stale"] is False and card["in_stage"] == "less than an hour"
    inbox = next(c for c in data["columns"] if c["stage"]["name"] == "Unsorted")["deals"][0]
    assert inbox["movable"] is False and inbox["owner"] is None
    assert data["me"] == {"telegram_id": ALI, "name": "Ali", "is_boss": False}
    assert data["sellers"] == [] and data["whose"] == "your deals"
    assert data["open"] == {  # the inbox deal is shown to Ali apart, not counted as his
        "count": 1,
        "amount_text": "₽1,500",
        "unassigned": 1,
        "unassigned_text": "1 unassigned to take",
    }
    assert data["texts"]["board"] == "Board" and data["rtl"] is False
    assert [r["value"] for r in data["lost_reasons"]] == [
        "Price",
        "Chose a competitor",
        "No budget",
        "No response",
        "Not a fit",
    ]


async def test_a_boss_sees_every_deal_and_can_filter_by_seller(board: Board) -> None:
    everyone = await board.get("/app/api/board", BOSS)
    assert titles(everyone)["Opportunity"] == [
        "Globex PBX",
        "ACME: 20 IP phones",
    ]  # newest in the stage first
    assert {s["name"] for s in everyone["sellers"]} == {"Olga", "Ali", "Maria", "Omar"}
    marias = await board.get(f"/app/api/board?seller={MARIA}", BOSS)
    assert titles(marias) == {"Opportunity": ["Globex PBX"]}
    assert marias["whose"] == "Maria" and marias["seller"] == MARIA
    assert marias["open"] == {"count": 1, "amount_text": "₽4,200", "unassigned": 0, "unassigned_text": ""}


async def test_a_seller_cannot_look_at_another_sellers_board(board: Board) -> None:
    data = await board.get(f"/app/api/board?seller={MARIA}", ALI, status=403)
    assert data["error"]["code"] == "not_allowed"
    await board.get(f"/app/api/board?seller={ALI}", ALI)


async def test_the_board_speaks_the_users_language_and_reads_right_to_left_in_arabic(board: Board) -> None:
    russian = await board.get("/app/api/board", MARIA)
    assert russian["locale"] == "ru" and russian["texts"]["board"] != "Board"
    assert "Коммерческое предложение" in [c["stage"]["name"] for c in russian["columns"]]
    arabic = await board.get("/app/api/board", OMAR)
    assert arabic["locale"] == "ar" and arabic["rtl"] is True
    assert "التوقيع والدفع" in [c["stage"]["name"] for c in arabic["columns"]]


async def test_a_deal_opens_with_its_history_for_those_who_may_see_it(board: Board) -> None:
    data = await board.get(f"/app/api/deals/{board.team.ali_deal.id}", ALI)
    deal = data["deal"]
    assert deal["title"] == "ACME: 20 IP phones" and deal["stage"]["place"] == "2/7"
    assert deal["contact_name"] == "Ivan Petrov" and deal["owner"]["name"] == "Ali"
    assert [line["text"] for line in deal["history"]] == ["created in Opportunity"]
    assert deal["history"][0]["who"] == "Ali"
    missing = await board.get(f"/app/api/deals/{board.team.maria_deal.id}", ALI, status=404)
    assert missing["error"]["code"] == "not_found"
    await board.get("/app/api/deals/999999", ALI, status=404)


# -- moving ------------------------------------------------------------------------------------------


async def test_a_seller_moves_their_deal_and_the_chat_hears_of_it(board: Board) -> None:
    data = await board.get("/app/api/board", ALI)
    deal = board.team.ali_deal
    offer = stage_id(data, "Commercial offer")
    moved = await board.move(deal, ALI, to_stage_id=offer, version=deal.version)
    assert moved["deal"]["stage_id"] == offer and moved["deal"]["version"] == deal.version + 1
    stored = await board.crm.deals.get(deal_id=deal.id, actor=board.team.ali)
    assert stored.stage.name == "Commercial offer"
    history = await board.crm.deals.history(deal_id=deal.id, actor=board.team.ali)
    assert history[-1].kind is EventKind.MOVED and history[-1].actor_id == board.team.ali.id
    notes = await outbox(board.crm)
    assert [(n["kind"], n["recipient_id"]) for n in notes] == [
        (NoteKind.DEAL_MOVED_ON_BOARD, board.team.ali.id)
    ]
    assert (
        notes[0]["payload"]["deal_id"] == deal.id and notes[0]["payload"]["stage_name"] == "Commercial offer"
    )
    assert board.wakes == [1]
    after = await board.get("/app/api/board", ALI)
    assert titles(after)["Commercial offer"] == ["ACME: 20 IP phones"]


async def test_moving_another_sellers_deal_is_404_and_changes_nothing(board: Board) -> None:
    deal = board.team.maria_deal
    data = await board.get("/app/api/board", ALI)
    refused = await board.move(deal, ALI, status=404, to_stage_id=stage_id(data, "Won"), version=deal.version)
    assert refused["error"]["code"] == "not_found"
    stored = await board.crm.deals.get(deal_id=deal.id, actor=board.team.maria)
    assert stored.stage.name == "Opportunity" and stored.version == deal.version
    assert len(await board.crm.deals.history(deal_id=deal.id, actor=board.team.maria)) == 1
    assert await outbox(board.crm) == [] and board.wakes == []


async def test_a_seller_cannot_move_an_inbox_deal_nobody_has_taken(board: Board) -> None:
    deal = board.team.inbox_deal
    data = await board.get("/app/api/board", ALI)
    refused = await board.move(
        deal, ALI, status=403, to_stage_id=stage_id(data, "Opportunity"), version=deal.version
    )
    assert refused["error"]["code"] == "not_allowed" and "take it first" in refused["error"]["message"]


async def test_a_stale_version_is_409_the_deal_changed_meanwhile(board: Board) -> None:
    deal = board.team.ali_deal
    data = await board.get("/app/api/board", ALI)
    await board.crm.deals.add_note(deal_id=deal.id, text="called", actor=board.team.ali)
    refused = await board.move(
        deal, ALI, status=409, to_stage_id=stage_id(data, "Commercial offer"), version=deal.version
    )
    assert refused["error"]["code"] == "stale" and "changed meanwhile" in refused["error"]["message"]
    assert (await board.crm.deals.get(deal_id=deal.id, actor=board.team.ali)).stage.name == "Opportunity"


async def test_a_refusal_is_in_the_users_language(board: Board) -> None:
    deal = board.team.maria_deal
    data = await board.get("/app/api/board", MARIA)
    lost = next(c["stage"]["id"] for c in data["columns"] if c["stage"]["kind"] == "lost")
    refused = await board.move(deal, MARIA, status=400, to_stage_id=lost, version=deal.version)
    message = refused["error"]["message"]
    assert message and not message.isascii(), message


async def test_lost_needs_a_reason_from_the_list_or_other_with_words(board: Board) -> None:
    deal = board.team.ali_deal
    lost = stage_id(await board.get("/app/api/board", ALI), "Lost")
    bodies: list[dict[str, Any]] = [
        {},
        {"lost_reason": ""},
        {"lost_reason": "Because"},
        {"lost_reason": "Other"},
        {"lost_reason": "Other", "lost_text": "   "},
        {"lost_reason": ["Price"]},
    ]
    for body in bodies:
        refused = await board.move(deal, ALI, status=400, to_stage_id=lost, version=deal.version, **body)
        assert refused["error"]["code"] == "invalid", body
    moved = await board.move(deal, ALI, to_stage_id=lost, version=deal.version, lost_reason="Price")
    assert moved["deal"]["closed"] is True
    assert (await board.crm.deals.get(deal_id=deal.id, actor=board.team.ali)).lost_reason == "Price"


async def test_a_lost_card_dropped_on_another_column_snaps_back_naming_where_it_reopens(board: Board) -> None:
    deal = board.team.ali_deal  # in Opportunity
    data = await board.get("/app/api/board", ALI)
    lost = await board.move(
        deal, ALI, to_stage_id=stage_id(data, "Lost"), version=deal.version, lost_reason="Price"
    )
    version = lost["deal"]["version"]
    for column in ("Execution", "Unsorted"):
        refused = await board.move(deal, ALI, status=409, to_stage_id=stage_id(data, column), version=version)
        assert refused["error"] == {
            "code": "reopens_elsewhere",
            "message": "A closed deal reopens only in Opportunity, where it was closed.",
        }
    assert (await board.crm.deals.get(deal_id=deal.id, actor=board.team.ali)).stage.name == "Lost"
    reopened = await board.move(deal, ALI, to_stage_id=stage_id(data, "Opportunity"), version=version)
    assert (reopened["deal"]["stage_id"], reopened["deal"]["closed"]) == (
        stage_id(data, "Opportunity"),
        False,
    )
    history = await board.crm.deals.history(deal_id=deal.id, actor=board.team.ali)
    assert history[-1].kind is EventKind.REOPENED


async def test_the_refusal_to_reopen_elsewhere_is_in_the_users_language(board: Board) -> None:
    deal = board.team.maria_deal
    await board.crm.deals.mark_lost(deal_id=deal.id, reason="Price", actor=board.team.maria)
    data = await board.get("/app/api/board", MARIA)
    closed = await board.crm.deals.get(deal_id=deal.id, actor=board.team.maria)
    refused = await board.move(
        deal, MARIA, status=409, to_stage_id=stage_id(data, "Исполнение"), version=closed.version
    )
    assert refused["error"]["message"] == (
        "Закрытая сделка возвращается в работу только на этап «Возможная сделка», с которого её закрыли."
    )


async def test_lost_for_another_reason_keeps_the_users_words(board: Board) -> None:
    deal = board.team.ali_deal
    lost = stage_id(await board.get("/app/api/board", ALI), "Lost")
    await board.move(
        deal,
        ALI,
        to_stage_id=lost,
        version=deal.version,
        lost_reason="Other",
        lost_text="  went with  a friend ",
    )
    lost = await board.crm.deals.get(deal_id=deal.id, actor=board.team.ali)
    assert (lost.lost_reason, lost.lost_note) == ("Other", "went with a friend")
    details = (await board.get(f"/app/api/deals/{deal.id}", ALI))["deal"]
    assert details["lost_reason"] == "Other: went with a friend"
    assert details["history"][0]["text"] == "lost: Other: went with a friend"


async def test_a_boss_moves_any_deal(board: Board) -> None:
    deal = board.team.maria_deal
    won = stage_id(await board.get("/app/api/board", BOSS), "Won")
    await board.move(deal, BOSS, to_stage_id=won, version=deal.version)
    assert (await board.crm.deals.get(deal_id=deal.id, actor=board.team.maria)).stage.name == "Won"


GARBAGE = [
    b"",
    b"not json",
    b"[]",
    b"null",
    b'"text"',
    b"{",
    b'{"to_stage_id": "3", "version": 1}',
    b'{"to_stage_id": 3.0, "version": 1}',
    b'{"to_stage_id": true, "version": 1}',
    b'{"to_stage_id": 3}',
    b'{"to_stage_id": 3, "version": -1}',
    b'{"to_stage_id": 3, "version": 99999999999999999999999999}',
    b'{"to_stage_id": 99999999999999999999, "version": 1}',
    b'{"to_stage_id": 0, "version": 1}',
    b'{"to_stage_id": 424242, "version": 1}',
    b'{"to_stage_id": 3, "version": 1e999}',
    b'{"to_stage_id": 3, "version": NaN}',
    b'{"to_stage_id": 3, "version": 1, "lost_reason": {"a": 1}}',
    b"[" * 3000 + b"]" * 1000,
    b'{"a": "' + b"x" * 5000 + b'"}',
    b"\xff\xfe\x00",
]


@pytest.mark.parametrize("body", GARBAGE)
async def test_a_garbage_body_is_a_4xx_never_a_500(board: Board, body: bytes) -> None:
    response = await board.http.post(
        f"/app/api/deals/{board.team.ali_deal.id}/move",
        data=body,
        headers={**board.auth(ALI), "Content-Type": "application/json"},
    )
    data = await response.json()
    assert response.status in (400, 413), (response.status, data)
    assert set(data["error"]) == {"code", "message"}
    assert (await board.crm.deals.get(deal_id=board.team.ali_deal.id, actor=board.team.ali)).version == 1


@pytest.mark.parametrize("deal_id", ["abc", "0", "-1", "99999999999999999999", "1e3", "%20"])
async def test_a_deal_id_that_is_not_one_is_404(board: Board, deal_id: str) -> None:
    for method, path in [("GET", f"/app/api/deals/{deal_id}"), ("POST", f"/app/api/deals/{deal_id}/move")]:
        response = await board.http.request(
            method, path, headers=board.auth(ALI), json={"to_stage_id": 2, "version": 1}
        )
        assert response.status == 404, (path, await response.text())


@pytest.mark.parametrize("seller", ["abc", "-5", "1" * 30, "2.5"])
async def test_a_seller_filter_that_is_not_an_id_is_400(board: Board, seller: str) -> None:
    data = await board.get(f"/app/api/board?seller={seller}", BOSS, status=400)
    assert data["error"]["code"] == "invalid"


async def test_the_page_and_its_files_are_served_with_a_strict_policy(board: Board) -> None:
    page = await board.http.get("/app/board")
    assert page.status == 200 and "text/html" in page.headers["Content-Type"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = await page.text()
    assert 'src="static/board.js"' in html
    for name in ("board.js", "board.css", "drag.js", "sheets.js", "telegram.js", "api.js"):
        response = await board.http.get(f"/app/static/{name}")
        assert response.status == 200, name
    assert json.loads(json.dumps(board.wakes)) == []


def test_a_database_outage_is_503_try_again_later() -> None:
    status, code, message = refusal(Unavailable("connection refused"), Tr("ru"))
    assert (status, code) == (503, "unavailable") and message
