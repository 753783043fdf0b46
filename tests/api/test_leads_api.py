"""Web-form leads end to end: the docs' HTML snippet served from another origin posts from headless
Chromium to the real `kanbot run` server; the deal, its note and its seller's notice in the chat follow.

The server is started here with a configured origin (the page's) and a limit of 5 posts a minute."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.core.i18n import bare
from crm_core.adapters.tables import deals, outbox
from crm_core.domain.deals import Deal, Source
from crm_core.domain.history import EventKind
from crm_core.services import Crm
from crm_core.services.fields import fields_spec_from_document
from kanbot.settings import ServerSettings
from telegram_emulator import Emulator
from tests.api.support import Api
from tests.e2e.harness import ALI, BOSS, EmulatedChat, RunningKanbot, settings_for
from tests.support.team import chat, guests  # noqa: F401  (fixtures, taken by name)

DOC = Path(__file__).resolve().parents[2] / "docs" / "forms.md"
SNIPPET = re.compile(r"```html\n(.*?)```", re.DOTALL)
POSTS_PER_MINUTE = 5


@pytest.fixture
async def page_origin() -> AsyncIterator[tuple[str, dict[str, str]]]:
    """A website on another origin serving docs/forms.md's snippet; fill ``page["html"]`` to serve it."""
    served: dict[str, str] = {"html": ""}

    async def index(request: web.Request) -> web.Response:
        return web.Response(
            text=f"<!doctype html><html><body>{served['html']}</body></html>", content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/", index)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", served
    await runner.cleanup()


@pytest.fixture
def posts_per_minute() -> int:
    """How many posts one address may make a minute (a test parametrizes it to post more)."""
    return POSTS_PER_MINUTE


@pytest.fixture
async def kanbot(  # a Kanbot whose web forms may be posted from the page's origin
    crm: Crm,
    database_url: str,
    emulator: Emulator,
    runtime: str,
    page_origin: tuple[str, dict[str, str]],
    posts_per_minute: int,
) -> AsyncIterator[RunningKanbot]:
    settings = settings_for(database_url, emulator.url, runtime)
    settings.server = ServerSettings(
        _env_file=None,
        http_host="127.0.0.1",
        http_port=0,
        form_origins=[page_origin[0]],
        form_posts_per_window=posts_per_minute,
        form_window_seconds=60,
    )
    running = RunningKanbot(settings)
    await running.start()
    yield running
    await running.stop()


async def web_deals(crm: Crm) -> list[Deal]:
    async with crm.db.uow(write=False) as uow:
        conn = uow.connection  # type: ignore[attr-defined]
        ids = (
            await conn.execute(select(deals.c.id).where(deals.c.source == Source.WEB_FORM.value))
        ).scalars()
        return [d for d in [await uow.deals.get(i) for i in ids] if d is not None]


async def notes_of(crm: Crm, deal_id: int) -> list[str]:
    async with crm.db.uow(write=False) as uow:
        return [e.data["text"] for e in await uow.events.history(deal_id) if e.kind is EventKind.NOTE]


async def outbox_count(crm: Crm) -> int:
    async with crm.db.uow(write=False) as uow:
        conn = uow.connection  # type: ignore[attr-defined]
        return int((await conn.execute(select(func.count()).select_from(outbox))).scalar_one())


async def post(api: Api, body: dict[str, Any], **headers: str) -> Any:
    return await api.call("POST", "/api/v1/leads", json=body, headers=headers)


@pytest.mark.browser
async def test_a_lead_posted_from_a_browser_page_makes_a_deal_and_tells_its_owner(
    crm: Crm,
    kanbot: RunningKanbot,
    chat: EmulatedChat,  # noqa: F811
    browser: Any,
    page_origin: tuple[str, dict[str, str]],
) -> None:
    ali = await crm.users.identify(ALI)
    form = await crm.web_forms.create(name="Website", owner_telegram_id=ALI)
    origin, page = page_origin
    snippet = SNIPPET.findall(DOC.read_text(encoding="utf-8"))[0]
    page["html"] = snippet.replace("https://crm.example.com", kanbot.http_url).replace(
        "PASTE-THE-FORM-KEY", form.key
    )
    tab = await (await browser.new_context()).new_page()
    await tab.goto(origin)

    await tab.fill("input[name=name]", "Anna Petrova")
    await tab.fill("input[name=phone]", "8 (916) 123-45-67")
    await tab.fill("textarea[name=message]", "A quote for 20 headsets, please")
    await tab.click("button[type=submit]")
    await tab.locator("#kanbot-thanks").wait_for(state="visible")

    [deal] = await web_deals(crm)
    assert (deal.title, deal.owner_id, deal.contact and deal.contact.phone) == (
        "Anna Petrova",
        ali.id,
        "+79161234567",
    )
    assert deal.stage.id == (await crm.pipelines.default()).inbox.id
    assert await notes_of(crm, deal.id) == [
        "Web form «Website»: Anna Petrova\nA quote for 20 headsets, please"
    ]

    async def told() -> bool:
        return any("New lead from the web form Website" in bare(m.text) for m in await chat.bot_messages(ALI))

    await chat.wait_until(told, what="Ali's notice of the lead")
    notice = next(m for m in await chat.bot_messages(ALI) if "New lead" in m.text)
    assert "Anna Petrova" in notice.text


async def test_the_same_phone_again_joins_the_deal_and_an_unowned_one_tells_the_bosses(
    crm: Crm,
    api: Api,
    kanbot: RunningKanbot,
    chat: EmulatedChat,  # noqa: F811
) -> None:
    form = await crm.web_forms.create(name="Landing page")

    first = await post(
        api, {"form_key": form.key, "name": "Boris", "phone": "+7 495 111-22-33", "message": "Hi"}
    )
    again = await api.call(
        "POST",
        "/api/v1/leads",
        data=f"form_key={form.key}&name=Boris+K&phone=84951112233&email=boris%40example.com&message=Still+there%3F&website=".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert first.status == again.status == 202, (first.body, again.body)
    assert first.body["created"] is True and again.body == {
        "deal_id": first.body["deal_id"],
        "created": False,
    }
    [deal] = await web_deals(crm)
    assert deal.owner_id is None
    assert await notes_of(crm, deal.id) == [
        "Web form «Landing page»: Boris\nHi",
        "Web form «Landing page»: Boris K\nE-mail: boris@example.com\nStill there?",
    ]

    async def boss_told_twice() -> bool:
        return sum("web form Landing page" in bare(m.text) for m in await chat.bot_messages(BOSS)) == 2

    await chat.wait_until(boss_told_twice, what="the boss's notices of the unowned lead")
    assert not [m for m in await chat.bot_messages(ALI) if "web form" in m.text]


async def test_a_spam_burst_from_one_address_is_refused_and_makes_no_more_deals(crm: Crm, api: Api) -> None:
    form = await crm.web_forms.create(name="Website")

    answers = [
        await post(api, {"form_key": form.key, "name": f"Bot {n}", "phone": f"+7 916 000-00-{n:02d}"})
        for n in range(POSTS_PER_MINUTE + 3)
    ]

    assert [a.status for a in answers] == [202] * POSTS_PER_MINUTE + [429] * 3
    assert all(1 <= int(a.headers["Retry-After"]) <= 60 for a in answers[POSTS_PER_MINUTE:])
    assert answers[-1].body["error"] == "too_many"
    assert len(await web_deals(crm)) == POSTS_PER_MINUTE


async def test_a_filled_honeypot_is_answered_as_taken_and_makes_nothing(crm: Crm, api: Api) -> None:
    form = await crm.web_forms.create(name="Website", owner_telegram_id=ALI)
    told_before = await outbox_count(crm)

    trapped = await post(
        api, {"form_key": form.key, "name": "Spam", "phone": "+79160000001", "website": "http://x"}
    )

    assert trapped.status == 202 and trapped.body == {"deal_id": None, "created": False}
    assert await web_deals(crm) == [] and await outbox_count(crm) == told_before


async def test_cors_preflight_is_allowed_for_the_configured_origin_and_refused_for_another(
    crm: Crm, api: Api, page_origin: tuple[str, dict[str, str]]
) -> None:
    origin = page_origin[0]
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    form = await crm.web_forms.create(name="Website")

    allowed = await api.call("OPTIONS", "/api/v1/leads", headers={"Origin": origin, **asked})
    refused = await api.call("OPTIONS", "/api/v1/leads", headers={"Origin": "https://evil.example", **asked})
    foreign = await post(api, {"form_key": form.key, "name": "Eve"}, Origin="https://evil.example")
    own = await post(api, {"form_key": form.key, "name": "Anna"}, Origin=origin)

    assert allowed.status == 204 and allowed.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "content-type" in allowed.headers["Access-Control-Allow-Headers"].lower()
    assert refused.status == 403 and "Access-Control-Allow-Origin" not in refused.headers
    assert foreign.status == 403 and "Access-Control-Allow-Origin" not in foreign.headers
    assert own.status == 202 and own.headers["Access-Control-Allow-Origin"] == origin
    assert [d.title for d in await web_deals(crm)] == ["Anna"]


@pytest.mark.parametrize("posts_per_minute", [50])
async def test_bad_input_names_the_field_and_changes_nothing(
    crm: Crm,
    api: Api,
    posts_per_minute: int,  # more than the posts here: none is refused as spam
) -> None:
    spec = fields_spec_from_document(
        {"fields": [{"key": "seats", "type": "number", "names": {"en": "Seats"}}]}
    )
    assert spec is not None
    await crm.fields.apply(spec)
    form = await crm.web_forms.create(name="Website")
    key = form.key

    cases: dict[str, dict[str, Any]] = {
        "name": {"form_key": key, "name": "  "},
        "phone": {"form_key": key, "name": "Anna", "phone": "call me"},
        "email": {"form_key": key, "name": "Anna", "email": "not an address"},
        "fields.seats": {"form_key": key, "name": "Anna", "fields": {"seats": "a dozen"}},
        "fields.colour": {"form_key": key, "name": "Anna", "fields": {"colour": "red"}},
        "surname": {"form_key": key, "name": "Anna", "surname": "P"},
    }
    for field, body in cases.items():
        refused = await post(api, body)
        assert (refused.status, refused.body["field"]) == (400, field), (field, refused.body)
    wrong_key = await post(api, {"form_key": "no-such-key", "name": "Anna"})
    too_large = await post(api, {"form_key": key, "name": "Anna", "message": "x" * 20_000})
    not_json = await api.call(
        "POST", "/api/v1/leads", data=b"{", headers={"Content-Type": "application/json"}
    )

    assert (wrong_key.status, wrong_key.body["error"], wrong_key.body["field"]) == (
        404,
        "form_not_found",
        "form_key",
    )
    assert too_large.status == 413 and not_json.status == 400
    assert await web_deals(crm) == []


async def test_a_multipart_form_post_with_own_fields_makes_the_deal(crm: Crm, api: Api) -> None:
    spec = fields_spec_from_document(
        {"fields": [{"key": "seats", "type": "number", "names": {"en": "Seats"}}]}
    )
    assert spec is not None
    await crm.fields.apply(spec)
    form = await crm.web_forms.create(name="Website")
    data = aiohttp.FormData()
    for name, value in [("form_key", form.key), ("name", "Dana"), ("phone", ""), ("fields.seats", "12")]:
        data.add_field(name, value)

    async with api.session.post(api.url + "/api/v1/leads", data=data) as answer:
        assert answer.status == 202, await answer.text()
        body = await answer.json()

    assert body["created"] is True
    values = await crm.deals.field_values(deal_id=body["deal_id"], actor=await crm.users.identify(BOSS))
    assert values["seats"] == ("12",)
