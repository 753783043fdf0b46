"""The card's sheet over HTTP: a note and edits of the title and amount go through the chat's services,
with the deal's version guarding edits; bad input is refused with the core's reason in the user's
language, and changes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crm_core.domain.deals import Deal
from crm_core.domain.history import EventKind
from tests.webapp.board_support import ALI, BOSS, MARIA, OMAR, Board, post, stage_id


async def note(board: Board, deal: Deal, as_user: int, *, status: int = 200, **body: Any) -> Any:
    return await post(board, f"/app/api/deals/{deal.id}/notes", as_user, status=status, **body)


async def edit(board: Board, deal: Deal, as_user: int, *, status: int = 200, **body: Any) -> Any:
    return await post(board, f"/app/api/deals/{deal.id}/edit", as_user, status=status, **body)


async def test_a_note_from_the_sheet_is_in_the_deals_history_and_the_answer_shows_it(board: Board) -> None:
    deal = board.team.ali_deal
    data = await note(board, deal, ALI, text="  Wants 5 more phones  ")
    assert data["deal"]["history"][0]["text"].endswith("Wants 5 more phones")
    assert data["deal"]["version"] == deal.version + 1
    events = await board.crm.deals.history(deal_id=deal.id, actor=board.team.ali)
    assert events[-1].kind is EventKind.NOTE and events[-1].data["text"] == "Wants 5 more phones"
    assert events[-1].actor_id == board.team.ali.id


async def test_the_title_and_the_amount_are_edited_with_the_deals_version(board: Board) -> None:
    deal = board.team.ali_deal
    data = await edit(board, deal, ALI, field="amount", value="2 500,50", version=deal.version)
    assert data["deal"]["amount"] == "2500.50" and data["deal"]["amount_text"] == "₽2,500.50"
    data = await edit(board, deal, ALI, field="title", value="ACME: 25 IP phones", version=deal.version + 1)
    assert data["deal"]["title"] == "ACME: 25 IP phones" and data["deal"]["version"] == deal.version + 2
    stored = await board.crm.deals.get(deal_id=deal.id, actor=board.team.ali)
    assert (stored.title, stored.amount) == ("ACME: 25 IP phones", Decimal("2500.50"))
    assert [line["kind"] for line in data["deal"]["history"][:2]] == ["edited", "edited"]


async def test_an_amount_can_be_cleared(board: Board) -> None:
    deal = board.team.ali_deal
    data = await edit(board, deal, ALI, field="amount", value="", version=deal.version)
    assert data["deal"]["amount"] is None and data["deal"]["amount_text"] == ""


async def test_an_edit_of_a_deal_changed_meanwhile_is_409_and_changes_nothing(board: Board) -> None:
    deal = board.team.ali_deal
    await board.crm.deals.add_note(deal_id=deal.id, text="called", actor=board.team.ali)
    refused = await edit(board, deal, ALI, status=409, field="amount", value="9", version=deal.version)
    assert refused["error"]["code"] == "stale"
    assert (await board.crm.deals.get(deal_id=deal.id, actor=board.team.ali)).amount == Decimal("1500")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"field": "amount", "value": "12,3,4"}, "the separators do not make a number"),
        ({"field": "amount", "value": "-5"}, "a positive number such as 1500 or 1 500,50"),
        ({"field": "amount", "value": "1500"}, "nothing changed"),
        ({"field": "title", "value": "   "}, "it cannot be empty"),
        ({"field": "title", "value": "x" * 201}, "at most 200 characters"),
        ({"field": "phone", "value": "+44 20 1234 5678"}, "it is not valid"),
        ({"field": "amount", "value": 1500}, "a text is expected here"),
        ({"field": "amount", "value": "10"}, "That version doesn't work"),  # no version
    ],
)
async def test_bad_input_is_refused_with_the_cores_reason_and_changes_nothing(
    board: Board, body: dict[str, Any], message: str
) -> None:
    deal = board.team.ali_deal
    version = {} if message.startswith("That version") else {"version": deal.version}
    refused = await edit(board, deal, ALI, status=400, **body, **version)
    assert refused["error"]["code"] == "invalid" and message in refused["error"]["message"]
    assert await board.crm.deals.get(deal_id=deal.id, actor=board.team.ali) == deal
    for empty in ({"text": " \n "}, {"text": None}, {}):
        refused = await note(board, deal, ALI, status=400, **empty)
        assert refused["error"]["code"] == "invalid"
    assert len(await board.crm.deals.history(deal_id=deal.id, actor=board.team.ali)) == 1


async def test_the_cores_reason_comes_in_the_users_language(board: Board) -> None:
    deal = board.team.maria_deal
    refused = await edit(board, deal, MARIA, status=400, field="amount", value="-5", version=deal.version)
    assert refused["error"]["message"] == (
        "Не подходит сумма: нужно положительное число, например 1500 или 1 500,50."
    )


async def test_others_deals_and_deals_nobody_has_taken_are_refused(board: Board) -> None:
    maria = board.team.maria_deal
    await note(board, maria, ALI, status=404, text="hi")
    await edit(board, maria, ALI, status=404, field="title", value="Mine now", version=maria.version)
    inbox = board.team.inbox_deal
    refused = await note(board, inbox, ALI, status=403, text="hi")
    assert "take it first" in refused["error"]["message"]
    await note(board, maria, BOSS, text="A boss may")
    assert (
        len(await board.crm.deals.history(deal_id=inbox.id, actor=board.team.olga)) == 2
    )  # created, reassigned


async def test_a_long_note_in_any_script_fits_in_a_request(board: Board) -> None:
    text = "Клиент просит перезвонить после праздников. " * 68  # 3000 characters, 5500 bytes
    data = await note(board, board.team.ali_deal, ALI, text=text[:3000])
    assert data["deal"]["history"][0]["kind"] == "note"


async def test_a_closed_deals_sheet_says_where_it_reopens(board: Board) -> None:
    deal = board.team.ali_deal
    lost = stage_id(await board.get("/app/api/board", ALI), "Lost")
    await board.move(deal, ALI, to_stage_id=lost, version=deal.version, lost_reason="Price")
    data = await board.get(f"/app/api/deals/{deal.id}", ALI)
    opportunity = stage_id(await board.get("/app/api/board", ALI), "Opportunity")
    assert data["deal"]["reopens_in"] == opportunity
    assert (await board.get(f"/app/api/deals/{board.team.maria_deal.id}", MARIA))["deal"][
        "reopens_in"
    ] is None


async def test_a_drop_in_its_own_column_is_refused_with_the_cores_reason(board: Board) -> None:
    deal = board.team.ali_deal
    here = stage_id(await board.get("/app/api/board", ALI), "Opportunity")
    refused = await board.move(deal, ALI, status=400, to_stage_id=here, version=deal.version)
    assert refused["error"]["message"] == "That stage doesn't work: the deal is already in this stage."
    arabic = await board.get("/app/api/board", OMAR)
    assert arabic["texts"]["save"] != "Save" and arabic["texts"]["reopen_in"] != "Reopen in {stage}"
