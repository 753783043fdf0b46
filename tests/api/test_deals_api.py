"""The REST API end to end: a token acts as its user, over HTTP against the real `kanbot run` server."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from crm_core.adapters.tables import deals
from crm_core.services import Crm
from tests.api.support import Api, token_of
from tests.e2e.harness import ALI, BOSS, MARIA, RunningKanbot


async def count_deals(crm: Crm, title: str) -> int:
    async with crm.db.uow(write=False) as uow:
        conn = uow.connection  # type: ignore[attr-defined]
        return int((await conn.execute(select(func.count()).where(deals.c.title == title))).scalar_one())


async def test_a_sellers_token_cannot_read_another_sellers_deal(crm: Crm, api: Api) -> None:
    ali, maria = await crm.users.identify(ALI), await crm.users.identify(MARIA)
    alis = await crm.deals.create(actor=ali, title="ACME phones", amount="1500", stage="Opportunity")
    marias = await crm.deals.create(actor=maria, title="Globex PBX", amount="4200", stage="Opportunity")
    token = await token_of(crm, ALI, scope="read")

    own = await api.call("GET", f"/api/v1/deals/{alis.id}", token=token)
    other = await api.call("GET", f"/api/v1/deals/{marias.id}", token=token)
    listed = await api.call("GET", "/api/v1/deals", token=token)

    assert own.status == 200 and own.body["title"] == "ACME phones" and own.body["amount"] == "1500.00"
    assert other.status == 404 and other.body["error"] == "deal_not_found"
    assert [d["id"] for d in listed.body["items"]] == [alis.id]
    boss = await api.call("GET", "/api/v1/deals", token=await token_of(crm, BOSS))
    assert [d["id"] for d in boss.body["items"]] == [alis.id, marias.id]


async def test_a_created_deal_is_answered_exactly_as_deal_show_json_prints_it(crm: Crm, api: Api) -> None:
    token = await token_of(crm, ALI)

    made = await api.call(
        "POST",
        "/api/v1/deals",
        token=token,
        json={
            "title": "Initech headsets",
            "amount": 990.5,
            "contact": {"name": "Bill", "phone": "+7 495 123-45-67"},
        },
    )

    assert made.status == 201, made.body
    from kanbot.cli.render import shown_deal_json

    ali = await crm.users.identify(ALI)
    assert made.body == await shown_deal_json(crm, ali, made.body["id"])
    assert made.body["contact"] == {"name": "Bill", "phone": "+74951234567"}
    assert made.body["owner"]["telegram_id"] == ALI and made.body["amount"] == "990.50"


async def test_a_retried_create_with_the_same_idempotency_key_makes_one_deal(
    crm: Crm, api: Api, kanbot: RunningKanbot
) -> None:
    token = await token_of(crm, ALI)
    body = {"title": "Umbrella order", "amount": "300"}
    key = {"Idempotency-Key": "order-77"}

    first = await api.call("POST", "/api/v1/deals", token=token, json=body, headers=key)
    await kanbot.restart()  # kept in the database, not in the process
    api.url = kanbot.http_url
    again = await api.call("POST", "/api/v1/deals", token=token, json=body, headers=key)
    other = await api.call("POST", "/api/v1/deals", token=token, json={**body, "amount": "301"}, headers=key)

    assert first.status == again.status == 201
    assert again.body == first.body
    assert other.status == 422 and other.body["field"] == "Idempotency-Key"
    assert await count_deals(crm, "Umbrella order") == 1


async def test_missing_wrong_expired_and_revoked_tokens_are_401(
    crm: Crm, api: Api, kanbot: RunningKanbot
) -> None:
    boss = await crm.users.identify(BOSS)
    revoked = await token_of(crm, ALI)
    [made] = await crm.api_tokens.tokens(actor=boss)
    await crm.api_tokens.revoke(token_id=made.id, actor=boss)
    expiring = await token_of(crm, MARIA, expires="1h")

    assert (await api.call("GET", "/api/v1/deals", token=expiring)).status == 200
    kanbot.let_time_pass(timedelta(hours=2))
    answers = [
        await api.call("GET", "/api/v1/deals"),
        await api.call("GET", "/api/v1/deals", token="kbt_not-a-real-one"),
        await api.call("GET", "/api/v1/deals", token=revoked),
        await api.call("GET", "/api/v1/deals", token=expiring),
    ]

    assert [a.status for a in answers] == [401, 401, 401, 401]
    assert all(a.body["error"] == "unauthenticated" for a in answers)
    assert [a.body["message"] for a in answers[2:]] == [
        "Not authenticated: the token was revoked.",
        "Not authenticated: the token has expired.",
    ]


async def test_a_read_token_cannot_write(crm: Crm, api: Api) -> None:
    token = await token_of(crm, ALI, scope="read")

    refused = await api.call("POST", "/api/v1/deals", token=token, json={"title": "Sneaky"})

    assert refused.status == 403 and refused.body["error"] == "not_allowed"
    assert await count_deals(crm, "Sneaky") == 0


async def test_bad_bodies_are_400_with_the_field_and_change_nothing(crm: Crm, api: Api) -> None:
    token = await token_of(crm, BOSS)
    cases = [
        ({"amount": "5"}, "title"),
        ({"title": ""}, "title"),
        ({"title": 7}, "title"),
        ({"title": "X", "amount": "lots"}, "amount"),
        ({"title": "X", "currency": "dollars"}, "currency"),
        ({"title": "X", "contact": {"phone": "call me"}}, "contact.phone"),
        ({"title": "X", "pipeline": "Nope"}, "pipeline"),
        ({"title": "X", "stage": "Nowhere"}, "stage"),
        ({"title": "X", "owner_telegram_id": 424242}, "owner_telegram_id"),
        ({"title": "X", "colour": "red"}, "colour"),
        ({"title": "X", "fields": {"nope": "1"}}, "fields"),
        ([1, 2], "body"),
    ]
    for body, field in cases:
        answer = await api.call("POST", "/api/v1/deals", token=token, json=body)
        assert answer.status == 400, (body, answer.body)
        assert answer.body["field"] is not None and answer.body["field"].startswith(field), (
            body,
            answer.body,
        )
        assert answer.body["reason"], (body, answer.body)
    not_json = await api.call(
        "POST", "/api/v1/deals", token=token, data=b"{title", headers={"Content-Type": "application/json"}
    )
    too_big = await api.call("POST", "/api/v1/deals", token=token, json={"title": "x" * 70_000})
    bad_query = await api.call("GET", "/api/v1/deals", token=token, params={"limit": "500"})
    bad_cursor = await api.call("GET", "/api/v1/deals", token=token, params={"cursor": "!!"})

    assert (not_json.status, not_json.body["field"]) == (400, "body")
    assert too_big.status == 413
    assert (bad_query.status, bad_query.body["field"]) == (400, "limit")
    assert (bad_cursor.status, bad_cursor.body["field"]) == (400, "cursor")
    assert await count_deals(crm, "X") == 0


async def test_deals_are_listed_a_page_at_a_time_with_filters(crm: Crm, api: Api) -> None:
    ali = await crm.users.identify(ALI)
    made = [await crm.deals.create(actor=ali, title=f"Deal {n}") for n in range(5)]
    await crm.deals.create(actor=ali, title="Won one", stage="Opportunity")
    token = await token_of(crm, BOSS)

    seen, cursor = [], None
    while True:
        page = await api.call(
            "GET",
            "/api/v1/deals",
            token=token,
            params={"limit": "2", "stage": "Unsorted", **({"cursor": cursor} if cursor else {})},
        )
        assert page.status == 200, page.body
        seen += [d["id"] for d in page.body["items"]]
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    mine = await api.call("GET", "/api/v1/deals", token=token, params={"owner": str(ALI), "limit": "100"})
    later = await api.call(
        "GET", "/api/v1/deals", token=token, params={"updated_since": "2999-01-01T00:00:00Z"}
    )

    assert seen == [d.id for d in made]
    assert len(mine.body["items"]) == 6
    assert later.body == {"items": [], "next_cursor": None}


async def test_the_openapi_document_and_the_docs_page_list_the_endpoints(api: Api) -> None:
    document = await api.call("GET", "/api/v1/openapi.json")
    page = await api.call("GET", "/api/docs")

    assert {"/api/v1/deals", "/api/v1/deals/{id}", "/api/v1/calls"} <= set(document.body["paths"])
    assert document.body["components"]["schemas"]["NewDeal"]["required"] == ["title"]
    assert page.status == 200 and "POST /api/v1/deals" in page.body and "<script" not in page.body


async def test_the_same_create_sent_twice_at_once_makes_one_deal(crm: Crm, api: Api) -> None:
    token = await token_of(crm, ALI)
    body, key = {"title": "Twice at once"}, {"Idempotency-Key": "same-moment"}

    answers = await asyncio.gather(
        *(api.call("POST", "/api/v1/deals", token=token, json=body, headers=key) for _ in range(2))
    )

    assert sorted(a.status for a in answers) in ([201, 201], [201, 409]), [a.body for a in answers]
    assert await count_deals(crm, "Twice at once") == 1
    retried = await api.call("POST", "/api/v1/deals", token=token, json=body, headers=key)
    assert retried.status == 201 and retried.body == next(a.body for a in answers if a.status == 201)


async def test_a_seller_may_not_list_another_sellers_deals_by_owner(crm: Crm, api: Api) -> None:
    ali = await crm.users.identify(ALI)
    await crm.deals.create(actor=ali, title="Ali's own")
    token = await token_of(crm, ALI)

    own = await api.call("GET", "/api/v1/deals", token=token, params={"owner": str(ALI)})
    other = await api.call("GET", "/api/v1/deals", token=token, params={"owner": str(MARIA)})

    assert own.status == 200 and [d["title"] for d in own.body["items"]] == ["Ali's own"]
    assert other.status == 403 and other.body["error"] == "not_allowed"


async def test_odd_input_is_never_a_server_error(crm: Crm, api: Api) -> None:
    token = await token_of(crm, BOSS)
    bodies = [
        {"title": "X", "pipeline": 99_999_999_999_999_999_999},
        {"title": "X", "pipeline": "9" * 30},
        {"title": "X", "stage": 99_999_999_999_999_999_999},
        {"title": "X", "stage": "9" * 30},
        {"title": "A\u0000B"},
        {"title": "X", "contact": {"name": "N\u0000", "phone": "+7 495 123-45-67"}},
        {"title": "X", "currency": "\u0000\u0000\u0000"},
        {"title": "X", "amount": 1e300},
        {"title": "X", "fields": {"k" * 5000: "v"}},
        {"title": "X", "owner_telegram_id": 2**60},
    ]
    for body in bodies:
        answer = await api.call("POST", "/api/v1/deals", token=token, json=body)
        assert answer.status < 500, (body, answer.body)
    for params in (
        {"pipeline": "9" * 30},
        {"stage": "9" * 30},
        {"stage": "\u0000"},
        {"updated_since": "2026-13-45"},
    ):
        answer = await api.call("GET", "/api/v1/deals", token=token, params=params)
        assert answer.status == 400, (params, answer.body)
    assert (await api.call("GET", "/api/v1/deals/99999999999999", token=token)).status == 404
    assert (await api.call("GET", "/api/v1/deals/abc", token=token)).status == 404


async def test_a_refused_create_is_answered_the_same_when_retried_with_its_key(crm: Crm, api: Api) -> None:
    token = await token_of(crm, ALI)
    body, key = {"title": "Nowhere deal", "stage": "Nowhere"}, {"Idempotency-Key": "refused-1"}

    first = await api.call("POST", "/api/v1/deals", token=token, json=body, headers=key)
    again = await api.call("POST", "/api/v1/deals", token=token, json=body, headers=key)

    assert first.status == again.status == 400 and first.body["field"] == "stage"
    assert again.body == first.body
    assert await count_deals(crm, "Nowhere deal") == 0
