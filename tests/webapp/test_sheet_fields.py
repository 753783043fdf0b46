"""The team's own fields on the board's sheet: shown in the user's language, edited with the deal's version
guarding them, a wrong value refused with the core's reason; a drag past a stage that requires a field is
refused naming why."""

from __future__ import annotations

from typing import Any

from crm_core.services.fields import fields_spec_from_document
from tests.webapp.board_support import ALI, MARIA, Board, post, stage_id

FIELDS = {
    "fields": [
        {
            "key": "city",
            "type": "choice",
            "names": {"en": "City", "ru": "Город", "ar": "المدينة"},
            "choices": ["Moscow", "Dubai"],
            "required_from": "Commercial offer",
        },
        {"key": "seats", "type": "number", "names": {"en": "Seats", "ru": "Места"}},
    ]
}


async def with_fields(board: Board) -> None:
    spec = fields_spec_from_document(FIELDS)
    assert spec is not None
    await board.crm.fields.apply(spec)


async def edit(board: Board, deal_id: int, as_user: int, *, status: int = 200, **body: Any) -> Any:
    return await post(board, f"/app/api/deals/{deal_id}/edit", as_user, status=status, **body)


async def test_the_sheet_shows_and_edits_the_teams_fields(board: Board) -> None:
    await with_fields(board)
    deal = board.team.ali_deal
    shown = (await board.get(f"/app/api/deals/{deal.id}", ALI))["deal"]
    assert [(f["key"], f["filled"], f["choices"]) for f in shown["fields"]] == [
        ("city", False, ["Moscow", "Dubai"]),
        ("seats", False, []),
    ]
    edited = (await edit(board, deal.id, ALI, field="city", value="dubai", version=shown["version"]))["deal"]
    city = edited["fields"][0]
    assert (city["name"], city["value"], city["text"], city["filled"]) == ("City", "Dubai", "Dubai", True)
    assert edited["history"][0]["text"] == "City: — → Dubai"
    refused = await edit(
        board, deal.id, ALI, status=400, field="seats", value="many", version=edited["version"]
    )
    assert refused["error"] == {
        "code": "invalid",
        "message": "That Seats doesn't work: a number such as 12 or 12.5.",
    }
    stale = await edit(board, deal.id, ALI, status=409, field="seats", value="3", version=shown["version"])
    assert stale["error"]["code"] == "stale"
    assert await board.crm.deals.field_values(deal_id=deal.id, actor=board.team.ali) == {"city": ("Dubai",)}


async def test_the_sheet_names_fields_in_russian(board: Board) -> None:
    await with_fields(board)
    deal = board.team.maria_deal
    await board.crm.deals.set_field(deal_id=deal.id, key="seats", value="4", actor=board.team.maria)
    shown = (await board.get(f"/app/api/deals/{deal.id}", MARIA))["deal"]
    assert shown["fields"][1] | {"choices": []} == {
        "key": "seats",
        "name": "Места",
        "value": "4",
        "text": "4",
        "filled": True,
        "choices": [],
    }


async def test_a_drag_past_a_stage_that_requires_a_field_is_refused(board: Board) -> None:
    await with_fields(board)
    data = await board.get("/app/api/board", ALI)
    deal = board.team.ali_deal
    refused = await board.move(
        deal, ALI, status=400, to_stage_id=stage_id(data, "Signing & payment"), version=deal.version
    )
    assert refused["error"]["code"] == "fields_required"
    assert "fields" in refused["error"]["message"]
