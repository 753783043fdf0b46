"""The REST API's changes and other resources end to end, over HTTP against the real `kanbot run`:
a deal edited, moved, won, lost, reopened, noted; its history; tasks; pipelines, fields and users."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from crm_core.adapters.tables import deal_events
from crm_core.services import Crm
from kanbot.cli.render import history_json, shown_deal_json, task_json, user_json
from tests.api.support import Api, token_of
from tests.e2e.harness import ALI, BOSS, MARIA, RunningKanbot


async def events_of(crm: Crm, deal_id: int) -> int:
    async with crm.db.uow(write=False) as uow:
        conn = uow.connection  # type: ignore[attr-defined]
        query = select(func.count()).where(deal_events.c.deal_id == deal_id)
        return int((await conn.execute(query)).scalar_one())


async def test_a_deal_is_edited_moved_lost_reopened_won_and_noted_as_the_cli_shows_it(
    crm: Crm, api: Api
) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="ACME phones", amount="1500", stage="Opportunity")
    token = await token_of(crm, ALI)
    path = f"/api/v1/deals/{deal.id}"

    edited = await api.call(
        "PATCH", path, token=token, json={"title": "ACME desk phones", "amount": "1 750,50"}
    )
    assert edited.status == 200, edited.body
    assert edited.body == await shown_deal_json(crm, ali, deal.id)
    assert (edited.body["title"], edited.body["amount"]) == ("ACME desk phones", "1750.50")

    moved = await api.call("POST", path + "/move", token=token, json={"stage": "Commercial offer"})
    assert moved.status == 200 and moved.body["stage"]["name"] == "Commercial offer"

    lost = await api.call("POST", path + "/lost", token=token, json={"reason": "Other", "note": "went quiet"})
    assert lost.status == 200, lost.body
    assert (lost.body["stage"]["kind"], lost.body["lost_reason"], lost.body["lost_note"]) == (
        "lost",
        "Other",
        "went quiet",
    )
    again = await api.call("POST", path + "/lost", token=token, json={"reason": "Price"})
    assert again.status == 400 and again.body["error"] == "closed"

    reopened = await api.call("POST", path + "/reopen", token=token)
    assert reopened.status == 200 and reopened.body["stage"]["name"] == "Commercial offer"
    won = await api.call("POST", path + "/won", token=token, json={"version": reopened.body["version"]})
    assert won.status == 200 and won.body["stage"]["kind"] == "won" and won.body["closed_at"]

    noted = await api.call("POST", path + "/notes", token=token, json={"text": "Paid by wire"})
    assert noted.status == 201 and noted.body["id"] == deal.id

    history = await api.call("GET", path + "/history", token=token)
    assert history.status == 200
    assert history.body == await history_json(crm, await crm.deals.history(deal_id=deal.id, actor=ali))
    kinds = [e["kind"] for e in history.body]
    assert kinds[0] == "created" and kinds[-1] == "note"
    assert {"won", "lost", "reopened"} <= set(kinds)


async def test_a_stale_version_is_409_with_the_current_one_and_changes_nothing(crm: Crm, api: Api) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="Globex PBX", amount="4200", stage="Opportunity")
    token = await token_of(crm, ALI)
    path = f"/api/v1/deals/{deal.id}"
    await crm.deals.edit(deal_id=deal.id, field="title", value="Globex PBX 2", actor=ali)  # meanwhile
    current = await crm.deals.get(deal_id=deal.id, actor=ali)
    before = await events_of(crm, deal.id)

    stale = [
        await api.call(
            "PATCH", path, token=token, json={"title": "Mine"}, headers={"If-Match": str(deal.version)}
        ),
        await api.call("POST", path + "/move", token=token, json={"stage": "Won", "version": deal.version}),
        await api.call("POST", path + "/won", token=token, headers={"If-Match": f'"{deal.version}"'}),
    ]

    assert [a.status for a in stale] == [409, 409, 409]
    assert all(a.body["current_version"] == current.version for a in stale)
    after = await crm.deals.get(deal_id=deal.id, actor=ali)
    assert (after.title, after.stage.name, after.version) == ("Globex PBX 2", "Opportunity", current.version)
    assert await events_of(crm, deal.id) == before
    fresh = await api.call(
        "PATCH", path, token=token, json={"title": "Mine"}, headers={"If-Match": str(current.version)}
    )
    assert fresh.status == 200 and fresh.body["version"] > current.version


async def test_a_retried_move_with_the_same_idempotency_key_changes_nothing_more(crm: Crm, api: Api) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="Initech headsets", stage="Opportunity")
    token = await token_of(crm, ALI)
    key = {"Idempotency-Key": "move-1"}
    path = f"/api/v1/deals/{deal.id}/move"

    first = await api.call("POST", path, token=token, json={"stage": "Commercial offer"}, headers=key)
    events = await events_of(crm, deal.id)
    retried = await api.call("POST", path, token=token, json={"stage": "Commercial offer"}, headers=key)
    other = await api.call("POST", path, token=token, json={"stage": "Execution"}, headers=key)

    assert first.status == retried.status == 200 and retried.body == first.body
    assert other.status == 422
    assert await events_of(crm, deal.id) == events
    assert (await crm.deals.get(deal_id=deal.id, actor=ali)).version == first.body["version"]


async def test_a_sellers_token_is_refused_on_another_sellers_deal_and_task(crm: Crm, api: Api) -> None:
    maria = await crm.users.identify(MARIA)
    marias = await crm.deals.create(actor=maria, title="Umbrella", amount="300", stage="Opportunity")
    task = await crm.tasks.add(
        deal_id=marias.id, due_at=crm.clock.now() + timedelta(days=1), text="Call back", actor=maria
    )
    token = await token_of(crm, ALI)
    path = f"/api/v1/deals/{marias.id}"

    answers = [
        await api.call("PATCH", path, token=token, json={"title": "Mine now"}),
        await api.call("POST", path + "/move", token=token, json={"stage": "Execution"}),
        await api.call("POST", path + "/won", token=token),
        await api.call("POST", path + "/lost", token=token, json={"reason": "Price"}),
        await api.call("POST", path + "/notes", token=token, json={"text": "peek"}),
        await api.call("GET", path + "/history", token=token),
        await api.call(
            "POST",
            "/api/v1/tasks",
            token=token,
            json={"deal_id": marias.id, "due_at": task.due_at.isoformat(), "text": "x"},
        ),
        await api.call("POST", f"/api/v1/tasks/{task.id}/done", token=token),
    ]

    assert [a.status for a in answers] == [404] * 8, [(a.status, a.body) for a in answers]
    listed = await api.call("GET", "/api/v1/tasks", token=token, params={"deal_id": str(marias.id)})
    assert listed.status == 200 and listed.body == []
    after = await crm.deals.get(deal_id=marias.id, actor=maria)
    assert (after.title, after.stage.name, after.version) == ("Umbrella", "Opportunity", marias.version)
    assert (await crm.tasks.get(task_id=task.id, actor=maria)).done_at is None
    owner = await api.call("PATCH", path, token=token, json={"owner_telegram_id": ALI})
    assert owner.status == 403


async def test_tasks_are_listed_planned_and_done(crm: Crm, api: Api) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="Hooli cables", stage="Opportunity")
    other = await crm.deals.create(actor=ali, title="Pied Piper", stage="Opportunity")
    token = await token_of(crm, ALI)
    due = (crm.clock.now() + timedelta(days=2)).replace(microsecond=0).isoformat()

    made = await api.call(
        "POST",
        "/api/v1/tasks",
        token=token,
        json={"deal_id": deal.id, "due_at": due, "text": "Send the offer"},
    )
    await api.call(
        "POST", "/api/v1/tasks", token=token, json={"deal_id": other.id, "due_at": due, "text": "x"}
    )
    assert made.status == 201, made.body
    assert made.body == task_json(await crm.tasks.get(task_id=made.body["id"], actor=ali))

    only = await api.call(
        "GET", "/api/v1/tasks", token=token, params={"deal_id": str(deal.id), "open": "true"}
    )
    assert [t["text"] for t in only.body] == ["Send the offer"]
    done = await api.call("POST", f"/api/v1/tasks/{made.body['id']}/done", token=token)
    assert done.status == 200 and done.body["done_at"]
    twice = await api.call("POST", f"/api/v1/tasks/{made.body['id']}/done", token=token)
    assert twice.status == 400
    left = await api.call("GET", "/api/v1/tasks", token=token, params={"deal_id": str(deal.id)})
    assert left.body == []
    past = await api.call(
        "POST",
        "/api/v1/tasks",
        token=token,
        json={"deal_id": deal.id, "due_at": "2001-01-01T00:00:00Z", "text": "y"},
    )
    bad = await api.call(
        "POST", "/api/v1/tasks", token=token, json={"deal_id": deal.id, "due_at": "soon", "text": "y"}
    )
    assert (past.status, past.body["field"]) == (400, "due_at")
    assert (bad.status, bad.body["field"]) == (400, "due_at")


async def test_pipelines_fields_and_users_are_read_as_the_cli_prints_them(crm: Crm, api: Api) -> None:
    seller, boss = await token_of(crm, ALI, scope="read"), await token_of(crm, BOSS, scope="read")

    pipelines = await api.call("GET", "/api/v1/pipelines", token=seller)
    fields = await api.call("GET", "/api/v1/fields", token=seller)
    sellers_team = await api.call("GET", "/api/v1/users", token=seller)
    bosses_team = await api.call("GET", "/api/v1/users", token=boss)

    document = await crm.pipelines.document()
    document["fields"] = await crm.fields.document()
    assert pipelines.status == 200 and pipelines.body == document
    assert fields.status == 200 and fields.body == await crm.fields.document()
    assert sellers_team.body == [user_json(await crm.users.identify(ALI))]
    assert [u["telegram_id"] for u in bosses_team.body] == [u.telegram_id for u in await crm.users.list()]


async def test_past_the_rate_limit_a_token_gets_429_with_retry_after(
    crm: Crm, api: Api, kanbot: RunningKanbot
) -> None:
    kanbot.settings.server.api_rate_limit = 3
    kanbot.settings.server.api_rate_window_seconds = 60
    await kanbot.restart()
    api.url = kanbot.http_url
    ali, maria = await token_of(crm, ALI), await token_of(crm, MARIA)

    answers = [await api.call("GET", "/api/v1/users", token=ali) for _ in range(4)]
    limited = await api.call("POST", "/api/v1/deals", token=ali, json={"title": "Over the limit"})

    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 60 and answers[3].body["error"] == "rate_limited"
    assert limited.status == 429
    assert (await api.call("GET", "/api/v1/users", token=maria)).status == 200  # per token
    kanbot.let_time_pass(timedelta(seconds=61))
    assert (await api.call("GET", "/api/v1/users", token=ali)).status == 200


async def test_bad_change_bodies_are_400_with_the_field_and_change_nothing(crm: Crm, api: Api) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="Soylent", stage="Opportunity")
    token = await token_of(crm, ALI)
    path = f"/api/v1/deals/{deal.id}"
    cases = [
        ("PATCH", "", {}, "body"),
        ("PATCH", "", {"title": ""}, "title"),
        ("PATCH", "", {"amount": "lots"}, "amount"),
        ("PATCH", "", {"colour": "red"}, "colour"),
        ("PATCH", "", {"version": "x"}, "version"),
        ("POST", "/move", {"stage": "Nowhere"}, "stage"),
        ("POST", "/move", {}, "stage"),
        ("POST", "/lost", {"reason": 5}, "reason"),
        ("POST", "/lost", {"reason": "Price", "version": 0}, "version"),
        ("POST", "/notes", {"text": ""}, "text"),
        ("POST", "/won", [], "body"),
    ]
    for method, tail, body, field in cases:
        refused = await api.call(method, path + tail, token=token, json=body)
        assert refused.status == 400, (tail, body, refused.body)
        assert refused.body["field"] == field, (tail, body, refused.body)
    if_match = await api.call("POST", path + "/won", token=token, headers={"If-Match": "soon"})
    assert (if_match.status, if_match.body["field"]) == (400, "If-Match")
    after = await crm.deals.get(deal_id=deal.id, actor=ali)
    assert (after.title, after.stage.name, after.version) == ("Soylent", "Opportunity", deal.version)


async def test_contacts_are_listed_searched_and_read_as_their_user_sees_them(crm: Crm, api: Api) -> None:
    ali, maria = await crm.users.identify(ALI), await crm.users.identify(MARIA)
    alis = await crm.deals.create(
        actor=ali, title="ACME", contact_name="Ivan Petrov", phone="+7 495 123-45-67", stage="Opportunity"
    )
    marias = await crm.deals.create(
        actor=maria, title="Globex", contact_name="Ivana Lee", phone="+7 916 555-00-11", stage="Opportunity"
    )
    assert alis.contact is not None and marias.contact is not None
    seller, boss = await token_of(crm, ALI, scope="read"), await token_of(crm, BOSS, scope="read")

    own = await api.call("GET", "/api/v1/contacts", token=seller)
    by_name = await api.call("GET", "/api/v1/contacts", token=boss, params={"q": "ivan"})
    by_phone = await api.call("GET", "/api/v1/contacts", token=boss, params={"q": "8 (916) 555-00-11"})
    by_digits = await api.call("GET", "/api/v1/contacts", token=boss, params={"q": "4567"})
    seller_search = await api.call("GET", "/api/v1/contacts", token=seller, params={"q": "Ivana"})
    got = await api.call("GET", f"/api/v1/contacts/{alis.contact.id}", token=seller)
    other = await api.call("GET", f"/api/v1/contacts/{marias.contact.id}", token=seller)
    page = await api.call("GET", "/api/v1/contacts", token=boss, params={"limit": "1"})
    rest = await api.call(
        "GET", "/api/v1/contacts", token=boss, params={"limit": "1", "cursor": page.body["next_cursor"]}
    )
    empty = await api.call("GET", "/api/v1/contacts", token=boss, params={"q": " "})

    ivan = {"id": alis.contact.id, "name": "Ivan Petrov", "phone": "+74951234567", "company": None}
    assert own.status == 200 and own.body == {"items": [ivan], "next_cursor": None}
    assert [c["name"] for c in by_name.body["items"]] == ["Ivan Petrov", "Ivana Lee"]
    assert [c["name"] for c in by_phone.body["items"]] == ["Ivana Lee"]
    assert [c["name"] for c in by_digits.body["items"]] == ["Ivan Petrov"]
    assert seller_search.body["items"] == []
    assert got.status == 200 and got.body == ivan
    assert other.status == 404 and other.body["error"] == "not_found"
    assert [c["id"] for c in page.body["items"] + rest.body["items"]] == [alis.contact.id, marias.contact.id]
    assert rest.body["next_cursor"] is None
    assert (empty.status, empty.body["field"]) == (400, "q")


async def test_a_contact_is_changed_for_every_deal_of_theirs_and_only_by_who_may(crm: Crm, api: Api) -> None:
    ali, maria = await crm.users.identify(ALI), await crm.users.identify(MARIA)
    first = await crm.deals.create(actor=ali, title="ACME", contact_name="Ivan", phone="+7 495 123-45-67")
    second = await crm.deals.create(actor=ali, title="ACME 2", phone="+7 495 123-45-67")
    marias = await crm.deals.create(actor=maria, title="Globex", contact_name="Lee", phone="+7 916 555-00-11")
    assert first.contact is not None and marias.contact is not None
    seller = await token_of(crm, ALI)
    path = f"/api/v1/contacts/{first.contact.id}"

    changed = await api.call(
        "PATCH",
        path,
        token=seller,
        json={"name": "Ivan Petrov", "company": "ACME Ltd"},
        headers={"Idempotency-Key": "c1"},
    )
    others = await api.call(
        "PATCH", f"/api/v1/contacts/{marias.contact.id}", token=seller, json={"name": "Me"}
    )
    taken = await api.call("PATCH", path, token=await token_of(crm, BOSS), json={"phone": "8 916 555 00 11"})
    bad = await api.call("PATCH", path, token=seller, json={"nickname": "Vanya"})

    assert changed.status == 200, changed.body
    assert changed.body == {
        "id": first.contact.id,
        "name": "Ivan Petrov",
        "phone": "+74951234567",
        "company": "ACME Ltd",
    }
    shown = await shown_deal_json(crm, ali, second.id)
    assert shown["contact"] == {"name": "Ivan Petrov", "phone": "+74951234567"}
    assert others.status == 404
    assert (taken.status, taken.body["field"]) == (400, "phone")
    assert (bad.status, bad.body["field"]) == (400, "nickname")
    assert (await crm.contacts.get(contact_id=marias.contact.id, actor=maria)).name == "Lee"


async def test_a_boss_adds_a_contact_without_a_deal_and_a_seller_may_not(crm: Crm, api: Api) -> None:
    boss, seller = await token_of(crm, BOSS), await token_of(crm, ALI)
    body = {"name": "Ivan Petrov", "phone": "8 (495) 123-45-67", "company": "ACME"}

    made = await api.call("POST", "/api/v1/contacts", token=boss, json=body, headers={"Idempotency-Key": "k"})
    again = await api.call(
        "POST", "/api/v1/contacts", token=boss, json=body, headers={"Idempotency-Key": "k"}
    )
    twin = await api.call("POST", "/api/v1/contacts", token=boss, json={**body, "name": "Other"})
    refused = await api.call("POST", "/api/v1/contacts", token=seller, json={"name": "Mine"})
    nameless = await api.call("POST", "/api/v1/contacts", token=boss, json={"phone": "+74950000000"})

    assert made.status == 201, made.body
    assert made.body == {
        "id": made.body["id"],
        "name": "Ivan Petrov",
        "phone": "+74951234567",
        "company": "ACME",
    }
    assert again.status == 201 and again.body == made.body
    assert (twin.status, twin.body["field"]) == (400, "phone")
    assert refused.status == 403
    assert (nameless.status, nameless.body["field"]) == (400, "name")
    listed = await api.call("GET", "/api/v1/contacts", token=boss)
    assert [c["id"] for c in listed.body["items"]] == [made.body["id"]]
