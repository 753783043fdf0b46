"""Several funnels in the board app: the board is one funnel's (picked, else the last used), the deal's
sheet names its funnel and offers the others' stages, and a deal moves there with its version."""

from __future__ import annotations

from crm_core.domain.history import EventKind
from tests.support.funnels import two_funnels
from tests.webapp.board_support import ALI, MARIA, Board, post, titles


async def test_with_one_funnel_the_board_and_the_sheet_name_none(board: Board) -> None:
    data = await board.get("/app/api/board", ALI)
    assert data["pipelines"] == [] and data["pipeline"]["name"] == "Sales"
    sheet = await board.get(f"/app/api/deals/{board.team.ali_deal.id}", ALI)
    assert sheet["deal"]["pipeline"] is None and sheet["deal"]["other_pipelines"] == []


async def test_the_board_shows_the_funnel_picked_and_then_the_one_last_used(board: Board) -> None:
    sales, renewals = await two_funnels(board.crm)
    data = await board.get("/app/api/board", ALI)
    assert data["pipeline"] == {"id": sales.id, "name": "Sales"}  # nothing picked yet: the default
    assert data["pipelines"] == [{"id": sales.id, "name": "Sales"}, {"id": renewals.id, "name": "Renewals"}]
    assert "ACME: 20 IP phones" in titles(data)["Opportunity"]
    data = await board.get(f"/app/api/board?pipeline={renewals.id}", ALI)
    assert data["pipeline"]["name"] == "Renewals"
    assert [c["stage"]["name"] for c in data["columns"]] == ["Due", "Talk", "Renewed", "Churned"]
    assert titles(data) == {}
    data = await board.get("/app/api/board", ALI)  # the one last used
    assert data["pipeline"]["name"] == "Renewals"
    refused = await board.get("/app/api/board?pipeline=999", ALI, status=400)
    assert refused["error"]["code"] == "not_found"


async def test_a_deal_moves_to_another_funnel_from_its_sheet(board: Board) -> None:
    sales, renewals = await two_funnels(board.crm)
    deal = board.team.ali_deal
    sheet = (await board.get(f"/app/api/deals/{deal.id}", ALI))["deal"]
    assert sheet["pipeline"] == {"id": sales.id, "name": "Sales"}
    [other] = sheet["other_pipelines"]
    assert other["name"] == "Renewals" and [s["name"] for s in other["stages"]] == ["Due", "Talk"]
    talk = next(s["id"] for s in other["stages"] if s["name"] == "Talk")
    path = f"/app/api/deals/{deal.id}/pipeline"
    data = await post(board, path, ALI, pipeline_id=renewals.id, stage_id=talk, version=deal.version)
    assert data["deal"]["pipeline"]["name"] == "Renewals" and data["deal"]["stage"]["name"] == "Talk"
    assert data["deal"]["history"][0]["text"] == "moved from the Sales funnel to Renewals, Talk"
    stored = await board.crm.deals.get(deal_id=deal.id, actor=board.team.ali)
    assert stored.pipeline_id == renewals.id and stored.stage.name == "Talk"
    events = await board.crm.deals.history(deal_id=deal.id, actor=board.team.ali)
    assert events[-1].kind is EventKind.PIPELINE_CHANGED
    moved = await board.get(f"/app/api/board?pipeline={renewals.id}", ALI)
    assert titles(moved) == {"Talk": [deal.title]}


async def test_a_stale_or_foreign_move_to_another_funnel_is_refused_and_changes_nothing(board: Board) -> None:
    sales, renewals = await two_funnels(board.crm)
    deal = board.team.ali_deal
    path = f"/app/api/deals/{deal.id}/pipeline"
    await board.crm.deals.add_note(deal_id=deal.id, text="called", actor=board.team.ali)
    stale = await post(board, path, ALI, status=409, pipeline_id=renewals.id, version=deal.version)
    assert stale["error"]["code"] == "stale"
    foreign = await post(board, path, MARIA, status=404, pipeline_id=renewals.id, version=deal.version + 1)
    assert foreign["error"]["code"] == "not_found"
    bad = await post(board, path, ALI, status=400, pipeline_id=renewals.id, stage_id="Talk", version=1)
    assert bad["error"]["code"] == "invalid"
    stored = await board.crm.deals.get(deal_id=deal.id, actor=board.team.ali)
    assert stored.pipeline_id == sales.id and stored.stage.name == deal.stage.name
