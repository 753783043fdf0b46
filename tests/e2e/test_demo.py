"""`kanbot demo`: the demo world it generates, the running demo as its users see it, its call panel."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import aiohttp
import phonenumbers
import pytest
import pytest_asyncio
import typer

from bot.core.i18n import bare
from crm_core.adapters import migrate
from crm_core.adapters.database import Database
from crm_core.domain.funnel import StageKind
from crm_core.domain.tasks import TaskKind
from crm_core.domain.users import Role, User
from crm_core.ports import FixedClock
from crm_core.reports.models import Period
from crm_core.services import Crm
from kanbot.cli.demo import demo
from kanbot.demo.data import generate
from kanbot.demo.run import DemoError, RunningDemo, check_ports, core_settings, fresh_database, run_demo, seed
from kanbot.demo.team import ALI, MARIA, OLGA, TOM
from tests.e2e.harness import EmulatedChat, Msg
from tests.support.browser import ARTIFACTS, chromium
from tests.support.network import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # the demo's world takes long to build; `kanbot demo` runs
# The running demo is started once for the module, so the tests that use it share its event loop.
on_the_demo_loop = pytest.mark.asyncio(loop_scope="module")
T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
STARTUP_S = 300.0  # a bound, not a wait: generating the demo's world is slow on a busy machine


# -- the generated world (one database for the module, only read) -------------------------------


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = fresh_database(tmp_path_factory.mktemp("demo-data"))
    asyncio.run(seed(url))
    return url


@pytest.fixture
async def world(demo_database: str) -> AsyncIterator[Crm]:
    db = Database(demo_database)
    yield Crm(db, config=core_settings(demo_database).crm_config())
    await db.dispose()


async def olga(crm: Crm) -> User:
    return await crm.users.identify(OLGA.telegram_id)


async def test_the_demo_team_is_a_boss_and_three_sellers_with_extensions(world: Crm) -> None:
    people = {u.name: u for u in await world.users.list()}
    assert people["Olga"].role is Role.BOSS and people["Olga"].locale == "en"
    assert [
        (people[s.name].role, people[s.name].extensions, people[s.name].locale) for s in (ALI, MARIA, TOM)
    ] == [
        (Role.SELLER, ("101",), "ar"),
        (Role.SELLER, ("102",), "ru"),
        (Role.SELLER, ("103",), "en"),
    ]
    assert {people[s.name].timezone for s in (ALI, MARIA, TOM)} == {
        "Asia/Dubai",
        "Europe/Moscow",
        "Europe/London",
    }


async def test_about_forty_deals_span_the_last_two_months(world: Crm) -> None:
    deals = await world.deals.list_deals(actor=await olga(world), pipeline="Sales")
    now = datetime.now(UTC)
    assert 35 <= len(deals) <= 45
    assert timedelta(days=55) <= now - min(d.created_at for d in deals) <= timedelta(days=61)
    assert now - max(d.created_at for d in deals) < timedelta(hours=2)
    assert all(d.amount is None or d.amount.as_tuple().exponent == -2 for d in deals)
    assert sum(1 for d in deals if d.amount is not None and d.amount % 1) > len(deals) // 2


async def test_a_second_pipeline_holds_a_few_renewals_each_seller_typed(world: Crm) -> None:
    renewals = await world.deals.list_deals(actor=await olga(world), pipeline="Renewals")
    assert sorted((d.owner.name if d.owner else "", d.stage.name) for d in renewals) == [
        ("Ali", "Renewed"),
        ("Maria", "Quote sent"),
        ("Tom", "Churned"),
        ("Tom", "Invoice"),
    ]
    maria = next(d for d in renewals if d.owner and d.owner.name == "Maria")
    assert CYRILLIC.search(maria.title)


async def test_the_funnel_file_adds_renewals_and_three_fields_of_the_teams_own(world: Crm) -> None:
    assert [(p.name, p.is_default) for p in await world.pipelines.list()] == [
        ("Sales", True),
        ("Renewals", False),
    ]
    renewals = await world.pipelines.get("Renewals")
    assert [s.name for s in renewals.stages] == ["Renewal due", "Quote sent", "Invoice", "Renewed", "Churned"]
    defs = await world.fields.definitions()
    assert [(d.key, d.entity.value, d.type.value, d.required_from, d.name("ru")) for d in defs] == [
        ("city", "deal", "choice", "Commercial offer", "Город"),
        ("lead_source", "deal", "choice", None, "Источник лида"),
        ("company_size", "contact", "number", None, "Размер компании"),
    ]
    document = await world.fields.document()  # what `kanbot pipeline show` prints, to edit and apply
    assert [f["key"] for f in document] == ["city", "lead_source", "company_size"]


async def test_the_demo_deals_carry_a_city_a_lead_source_and_the_customers_size(world: Crm) -> None:
    boss = await olga(world)
    sales = await world.pipelines.get("Sales")
    offer = [s.name for s in sales.stages].index("Commercial offer")
    deals = await world.deals.list_deals(actor=boss, pipeline="Sales")
    values = await world.deals.field_values_of(deals=deals, actor=boss)
    described = [d for d in deals if d.contact is not None and d.contact.name]
    assert len(described) >= len(deals) - 3  # all but the missed calls nobody returned yet
    for deal in described:
        mine = values.get(deal.id, {})
        if deal.source.value == "import":  # a website form: where and how, but not how big
            assert set(mine) == {"city", "lead_source"}, (deal.title, mine)
            continue
        assert set(mine) == {"city", "lead_source", "company_size"}, (deal.title, mine)
        assert int(mine["company_size"][0]) > 0
    # a deal at or past Commercial offer must have a city: the file says so from that stage on
    past_offer = [d for d in deals if d.stage.is_open and sales.stages.index(d.stage) >= offer]
    assert past_offer and all(values[d.id].get("city") for d in past_offer)
    website = [d for d in deals if d.source.value == "import"]
    assert len(website) == 3 and all(values[d.id]["lead_source"] == ("Website",) for d in website)
    for deal in await world.deals.list_deals(actor=boss, pipeline="Renewals"):  # no new leads: a city only
        assert set(await world.deals.field_values(deal_id=deal.id, actor=boss)) == {"city"}


async def test_the_funnel_by_city_spreads_the_open_deals_over_the_teams_cities(world: Crm) -> None:
    grouped = await world.field_reports.funnel_by(actor=await olga(world), key="city")
    totals = {value: grouped.total(value) for value in [*grouped.field.choices, None]}
    assert sum(1 for value, (count, _) in totals.items() if value and count) >= 4
    assert (
        sum(count for count, _ in totals.values())
        == (await world.reports.funnel(actor=await olga(world))).count
    )
    # only a deal still in the inbox may be without one
    assert all(r.stage.name == "Unsorted" for r in grouped.rows if r.value is None and r.count)


async def test_this_months_targets_put_ali_ahead_maria_behind_and_tom_within_reach(world: Crm) -> None:
    report = await world.targets.targets(actor=await olga(world))
    by_name = {row.seller.name: row.figures for row in report.sellers}
    ali, maria, tom = by_name["Ali"], by_name["Maria"], by_name["Tom"]
    assert ali.share is not None and ali.share > 1  # the renewal he closed this month put him past it
    assert maria.target_amount is not None and maria.forecast_amount < maria.target_amount / 2
    assert tom.target_amount is not None and tom.won_amount < tom.target_amount
    assert tom.target_amount / 2 < tom.forecast_amount <= tom.target_amount
    assert report.team.days_left >= 1


async def test_the_demo_funnel_groups_by_the_customers_city(world: Crm) -> None:
    boss = await olga(world)
    grouped = await world.field_reports.funnel_by(actor=boss, key="city")
    cities = {r.value for r in grouped.rows if r.count}
    assert {"Dubai", "Moscow", "London"} <= cities
    described = [d for d in await world.deals.list_deals(actor=boss) if d.contact and d.contact.name]
    values = await world.deals.field_values_of(deals=described, actor=boss)
    assert all("city" in values[d.id] for d in described)  # the website's leads too: a CSV column


async def test_some_deals_are_won_and_some_lost_for_reasons_from_the_list(world: Crm) -> None:
    deals = await world.deals.list_deals(actor=await olga(world))
    reasons = set(await world.pipelines.lost_reasons())
    lost = [d for d in deals if d.stage.kind is StageKind.LOST]
    assert sum(1 for d in deals if d.stage.kind is StageKind.WON) >= 5
    assert len(lost) >= 5 and {d.lost_reason for d in lost} <= reasons


async def test_the_conversion_report_names_commercial_offer_the_teams_lame_stage_and_tom_lame_elsewhere(
    world: Crm,
) -> None:
    boss, period = await olga(world), Period.last(30, until=datetime.now(UTC))
    report = await world.reports.conversion(actor=boss, period=period)
    by_seller = {
        row.seller.name: row.lame_stage
        for row in await world.reports.lame_stages_by_seller(actor=boss, period=period)
    }
    assert report.lame_stage is not None and report.lame_stage.name == "Commercial offer"
    assert by_seller["Tom"] is not None and by_seller["Tom"].name == "Document approval"


async def test_some_deals_are_stale_and_some_wait_unassigned_in_the_inbox(world: Crm) -> None:
    boss = await olga(world)
    stale = await world.deals.stale(actor=boss)
    unassigned = [d for d in await world.deals.list_deals(actor=boss, stage="Unsorted") if d.owner is None]
    assert len(stale) >= 3 and {d.owner.name for d in stale if d.owner} >= {"Ali", "Maria", "Tom"}
    assert len(unassigned) >= 2


async def test_sellers_have_open_tasks_some_overdue_some_due_next_and_a_call_back(world: Crm) -> None:
    tasks = await world.tasks.open_tasks(actor=await olga(world), everyone=True)
    now = datetime.now(UTC)
    assert sum(1 for t in tasks if t.due_at < now) >= 2
    assert sum(1 for t in tasks if now < t.due_at < now + timedelta(days=1)) >= 2
    assert any(t.kind is TaskKind.CALL_BACK for t in tasks)


async def test_deals_have_answered_and_missed_calls_and_some_were_born_from_calls(world: Crm) -> None:
    boss = await olga(world)
    deals = await world.deals.list_deals(actor=boss)
    calls = [c for d in deals for c in await world.calls.of_deal(deal_id=d.id, actor=boss)]
    assert len(calls) >= 20
    assert {c.status for c in calls} == {"answered", "missed"}
    assert {d.source.value for d in deals} >= {"manual", "call", "missed_call", "import"}


async def test_contacts_have_valid_phones_and_names_in_latin_cyrillic_and_arabic(world: Crm) -> None:
    contacts = [d.contact for d in await world.deals.list_deals(actor=await olga(world)) if d.contact]
    numbers = [phonenumbers.parse(c.phone) for c in contacts if c.phone]
    assert all(phonenumbers.is_valid_number(n) for n in numbers)
    assert {phonenumbers.region_code_for_number(n) for n in numbers} == {"RU", "AE", "GB"}
    names = " ".join(c.name or "" for c in contacts)
    assert any("а" <= ch <= "я" for ch in names) and any("\u0600" <= ch <= "\u06ff" for ch in names)


CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
ARABIC = re.compile("[\u0600-\u06ff]")
LATIN_WORDS = re.compile(r"\b[A-Za-z]{3,}\b")


def typed_by(deal: Any, history: list[Any]) -> str:
    """What people typed about a deal: its title, contact, notes and tasks."""
    contact = deal.contact.name if deal.contact and deal.contact.name else ""
    typed = [e.data.get("text", "") for e in history if e.kind.value in ("note", "task_created")]
    return " ".join([deal.title, contact, *map(str, typed)])


async def test_each_seller_types_in_their_own_language(world: Crm) -> None:
    boss = await olga(world)
    by_owner: dict[str, list[str]] = {"Ali": [], "Maria": [], "Tom": []}
    for deal in await world.deals.list_deals(actor=boss):
        if deal.owner is None or (deal.source.value == "missed_call" and deal.title.startswith("Missed")):
            continue
        history = await world.deals.history(deal_id=deal.id, actor=boss)
        seller_typed = [e for e in history if e.actor_name == deal.owner.name]
        by_owner[deal.owner.name].append(typed_by(deal, seller_typed))
    ali, maria, tom = (" ".join(by_owner[n]) for n in ("Ali", "Maria", "Tom"))
    assert ARABIC.search(ali) and not CYRILLIC.search(ali)
    assert CYRILLIC.search(maria) and not ARABIC.search(maria)
    assert not ARABIC.search(tom) and not CYRILLIC.search(tom)
    english = {"the", "and", "for", "with", "offer", "phones", "upgrade", "Send", "Call", "Asked"}
    for text in (ali, maria):
        assert not english & set(LATIN_WORDS.findall(text)), LATIN_WORDS.findall(text)


async def test_the_demo_in_russian_speaks_and_types_russian(tmp_path: Path) -> None:
    url = fresh_database(tmp_path)
    await seed(url, "ru")
    db = Database(url)
    crm = Crm(db, config=core_settings(url).crm_config())
    try:
        people = await crm.users.list()
        deals = await crm.deals.list_deals(actor=await olga(crm))
        tasks = await crm.tasks.open_tasks(actor=await olga(crm), everyone=True)
    finally:
        await db.dispose()
    assert {p.locale for p in people} == {"ru"}
    named = [d for d in deals if re.search(r"[^\W\d_]", d.title)]  # not a missed call's bare number
    assert named and all(CYRILLIC.search(d.title) for d in named)
    planned = [t for t in tasks if t.kind is not TaskKind.CALL_BACK]
    assert planned and all(CYRILLIC.search(t.text) for t in planned)


async def test_the_story_holds_for_another_seed_at_night(tmp_path: Path) -> None:
    now = datetime(2026, 3, 2, 1, 40, tzinfo=UTC)  # 04:40 in Moscow and 05:40 in Dubai
    url = fresh_database(tmp_path)
    db = Database(url)
    await migrate.upgrade(db)
    clock = FixedClock(now)
    crm = Crm(db, clock=clock, config=core_settings(url).crm_config())
    try:
        summary = await generate(crm, clock, now=now, seed=7)
        boss, period = await olga(crm), Period.last(30, until=now)
        report = await crm.reports.conversion(actor=boss, period=period)
        tom = next(
            r
            for r in await crm.reports.lame_stages_by_seller(actor=boss, period=period)
            if r.seller.name == "Tom"
        )
        tasks = await crm.tasks.open_tasks(actor=boss, everyone=True)
        people = {u.id: u for u in await crm.users.list()}
    finally:
        await db.dispose()
    assert 39 <= summary.deals <= 49 and summary.stale >= 3 and summary.unassigned >= 2  # four renewals
    assert report.lame_stage is not None and report.lame_stage.name == "Commercial offer"
    assert tom.lame_stage is not None and tom.lame_stage.name == "Document approval"
    planned = [t for t in tasks if t.kind is not TaskKind.CALL_BACK and t.due_at > now]
    local = [t.due_at.astimezone(ZoneInfo(people[t.assignee_id].timezone)) for t in planned if t.assignee_id]
    assert len(local) >= 3 and all(9 <= d.hour < 18 and d.minute % 15 == 0 for d in local), local


# -- the running demo ------------------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[RunningDemo, list[str]]]:
    """``run_demo`` on free ports, as `kanbot demo` runs it; stopped cleanly at the end."""
    printed: list[str] = []
    stop = asyncio.Event()
    ready: asyncio.Future[RunningDemo] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_demo(
            emulator_port=0,
            http_port=0,
            data_dir=tmp_path_factory.mktemp("demo"),
            stop=stop,
            ready=ready,
            say=printed.append,
        )
    )
    either: list[asyncio.Future[Any]] = [task, ready]
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED, timeout=STARTUP_S)
    if task.done():
        task.result()
    assert ready.done(), f"the demo did not start within {STARTUP_S:.0f} s: {printed}"
    started = ready.result()
    started.calls.talk_s = 1.0  # hang up soon: the tests wait for the end of answered calls
    yield started, printed
    stop.set()
    await asyncio.wait_for(task, timeout=30)


@pytest.fixture
def live(running: tuple[RunningDemo, list[str]]) -> RunningDemo:
    return running[0]


@pytest_asyncio.fixture(loop_scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def chat(live: RunningDemo, http: aiohttp.ClientSession) -> EmulatedChat:
    return EmulatedChat(live.emulator_url, http)


async def eventually(probe: Callable[[], Awaitable[T | None]]) -> T:
    """The probe's first truthy answer, polling for up to a minute (delivery runs beside the request;
    a bound for a busy machine, the answer is what is waited for)."""
    async with asyncio.timeout(60):
        while True:
            if value := await probe():
                return value
            await asyncio.sleep(0.2)


async def simulate(http: aiohttp.ClientSession, live: RunningDemo, **body: str) -> tuple[int, dict[str, Any]]:
    async with http.post(f"{live.emulator_url}/demo/calls", json=body) as response:
        return response.status, await response.json()


async def new_number(http: aiohttp.ClientSession, live: RunningDemo) -> str:
    async with http.get(f"{live.emulator_url}/demo/config") as response:
        return str((await response.json())["new_number"])


async def reply(chat: EmulatedChat, user_id: int, text: str) -> Msg:
    """Send ``text`` and return the bot's next new message (a slow handler may outlast the quiet wait)."""
    seen = {m.message_id for m in await chat.bot_messages(user_id)}
    await chat.send(user_id, text)

    async def new_message() -> Msg | None:
        return next((m for m in await chat.bot_messages(user_id) if m.message_id not in seen), None)

    return await eventually(new_message)


def message_with(messages: list[Msg], text: str) -> Msg | None:
    return next((m for m in reversed(messages) if text in m.text), None)


@on_the_demo_loop
async def test_the_demo_says_where_to_go_who_to_be_what_to_try_and_how_to_stop(
    running: tuple[RunningDemo, list[str]],
) -> None:
    live, printed = running
    text = "\n".join(printed)
    assert f"open {live.emulator_url}/" in text
    for person in (
        "Olga   boss    Telegram id 1001  English",
        "Ali    seller  Telegram id 2001  Arabic   ext 101",
    ):
        assert person in text
    assert "/start" in text and "/board" in text and "Telephony (demo PBX)" in text and "Ctrl+C" in text
    assert 39 <= live.summary.deals <= 49  # about forty sales and four renewals


@on_the_demo_loop
async def test_the_emulator_knows_the_demo_bot_and_people_in_their_languages(
    live: RunningDemo, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{live.emulator_url}/emulator/bots") as response:
        [bot] = await response.json()
    async with http.get(f"{live.emulator_url}/emulator/users") as response:
        users = {u["id"]: u for u in await response.json()}
    assert bot["username"] == "kanbot_demo_bot"
    assert [(users[i]["first_name"], users[i]["language_code"]) for i in (1001, 2001, 2002, 2003)] == [
        ("Olga", "en"),
        ("Ali", "ar"),
        ("Maria", "ru"),
        ("Tom", "en"),
    ]


@on_the_demo_loop
async def test_the_boss_starts_the_bot_and_sees_the_board_with_the_demo_deals(chat: EmulatedChat) -> None:
    assert "Hi, Olga" in (await reply(chat, OLGA.telegram_id, "/start")).text
    question = await reply(chat, OLGA.telegram_id, "/board")  # two funnels: which one first
    assert "Renewals" in " ".join(question.button_texts), question.button_texts
    await chat.click(OLGA.telegram_id, "Sales")

    async def sales_board() -> Msg | None:
        return next(
            (
                m
                for m in reversed(await chat.bot_messages(OLGA.telegram_id))
                if any("Commercial offer" in label for label in m.button_texts)
            ),
            None,
        )

    board = await eventually(sales_board)
    assert any("Won · 8" in label for label in board.button_texts), board.button_texts


@on_the_demo_loop
async def test_the_bosss_report_shows_ali_past_his_target_and_maria_far_from_hers(chat: EmulatedChat) -> None:
    report = (await reply(chat, OLGA.telegram_id, "/report")).text
    assert "🎯 Targets" in report and "Summary — 30 days" in report
    ali = next(line for line in report.splitlines() if line.startswith("👤 Ali:"))
    maria = next(line for line in report.splitlines() if line.startswith("👤 Maria:"))
    assert ali.startswith("👤 Ali: ▰▰▰▰▰▰▰▰▰▰ 1"), ali  # over 100 %
    assert "▱▱▱▱▱" in maria, maria


@on_the_demo_loop
async def test_a_seller_starts_the_bot_in_her_language_and_lists_her_deals(chat: EmulatedChat) -> None:
    assert "Maria" in (await reply(chat, MARIA.telegram_id, "/start")).text
    deals = await reply(chat, MARIA.telegram_id, "/deals")
    assert len(deals.buttons) >= 3, deals.text


@on_the_demo_loop
async def test_a_deal_card_shows_the_teams_own_fields(chat: EmulatedChat) -> None:
    found = await reply(chat, TOM.telegram_id, "/find Northwind")
    if any("Northwind" in label for label in found.button_texts):  # a list of what was found: open it
        await chat.click(TOM.telegram_id, "Northwind")

    async def card() -> str | None:
        texts = [bare(m.text) for m in await chat.bot_messages(TOM.telegram_id)]
        return next((text for text in reversed(texts) if "City: London" in text), None)

    text = await eventually(card)
    assert "Lead source: Cold call" in text and "Company size: 12" in text, text


@on_the_demo_loop
async def test_an_answered_call_from_the_panel_pops_up_the_deal_card_in_the_sellers_chat(
    live: RunningDemo, http: aiohttp.ClientSession, chat: EmulatedChat
) -> None:
    number = await new_number(http, live)
    status, call = await simulate(http, live, kind="answered", caller=number, extension="103")
    assert status == 200 and call["created"] and call["owner"] == "Tom", call
    card = await eventually(lambda: _bot_message(chat, TOM.telegram_id, number))
    assert "New customer on the line" in card.text and card.buttons
    ended = await eventually(lambda: _call_state(http, live, call["call_id"], "ended"))
    assert ended["duration_s"] >= 1
    boss = await live.kanbot.crm.users.identify(OLGA.telegram_id)
    [record] = await live.kanbot.crm.calls.of_deal(deal_id=call["deal_id"], actor=boss)
    assert record.status == "answered" and record.duration_s == ended["duration_s"]


@on_the_demo_loop
async def test_a_missed_call_from_the_panel_leaves_the_seller_a_call_back_task(
    live: RunningDemo, http: aiohttp.ClientSession, chat: EmulatedChat
) -> None:
    number = await new_number(http, live)
    status, call = await simulate(http, live, kind="missed", caller=number, extension="101")
    assert status == 200 and call["created"] and "call-back task" in call["message"], call
    ali = await live.kanbot.crm.users.identify(ALI.telegram_id)
    tasks = await live.kanbot.crm.tasks.open_tasks(actor=ali)
    assert any(t.deal_id == call["deal_id"] and t.kind is TaskKind.CALL_BACK for t in tasks)
    await eventually(lambda: _bot_message(chat, ALI.telegram_id, number))


@on_the_demo_loop
async def test_a_call_from_a_known_customer_joins_their_open_deal(
    live: RunningDemo, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{live.emulator_url}/demo/config") as response:
        config = await response.json()
    customer = next(c for c in config["customers"] if c["owner"] == "Maria")
    status, call = await simulate(http, live, kind="answered", caller=customer["phone"], extension="102")
    assert status == 200 and not call["created"] and call["deal_title"] == customer["deal"], call


@on_the_demo_loop
async def test_the_panel_refuses_an_unknown_extension_and_a_number_that_is_not_one(
    live: RunningDemo, http: aiohttp.ClientSession
) -> None:
    status, answer = await simulate(http, live, kind="answered", caller="+44 20 7946 0321", extension="999")
    assert status == 400 and "999" in answer["error"]
    status, answer = await simulate(http, live, kind="missed", caller="call me maybe", extension="101")
    assert status == 400 and "Kanbot refused the call" in answer["error"]


@on_the_demo_loop
async def test_the_page_extension_is_served_by_the_emulator(
    live: RunningDemo, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{live.emulator_url}/emulator/config") as response:
        [extension] = (await response.json())["page_extensions"]
    async with http.get(live.emulator_url + extension) as response:
        assert response.status == 200 and "javascript" in response.content_type
        assert "Telephony (demo PBX)" in await response.text()


@on_the_demo_loop
async def test_a_call_placed_from_a_card_rings_in_the_panel_and_picking_it_up_puts_it_on_the_deal(
    live: RunningDemo, http: aiohttp.ClientSession, chat: EmulatedChat
) -> None:
    crm, tom = live.kanbot.crm, await live.kanbot.crm.users.identify(TOM.telegram_id)
    deal = next(
        d for d in await crm.deals.list_deals(actor=tom) if not d.is_closed and d.contact and d.contact.phone
    )
    seen = {(m.message_id, m.text) for m in await chat.bot_messages(TOM.telegram_id)}

    async def news(text: str, *, button: str | None = None) -> Msg | None:
        """The newest message sent or edited since the test began with ``text`` (and ``button``)."""
        return next(
            (
                m
                for m in reversed(await chat.bot_messages(TOM.telegram_id))
                if (m.message_id, m.text) not in seen
                and text in m.text
                and (button is None or any(button in t for t in m.button_texts))
            ),
            None,
        )

    await chat.send(TOM.telegram_id, f"/find {deal.title}", wait=False)
    # the answer names the deal in full; its button may shorten a long title to the words that fit
    found = await eventually(lambda: news(deal.title, button=deal.title.split()[0]))
    await chat.click(TOM.telegram_id, deal.title.split()[0], message_id=found.message_id, wait=False)
    card = await eventually(lambda: news("in stage", button="📞 Call"))
    await chat.click(TOM.telegram_id, "📞 Call", message_id=card.message_id, wait=False)

    async def ringing() -> dict[str, Any] | None:
        async with http.get(f"{live.emulator_url}/demo/placed") as response:
            calls = (await response.json())["calls"]
        return next((c for c in calls if c["seller"] == "Tom"), None)

    placed = await eventually(ringing)
    assert deal.contact is not None and placed["number"] == deal.contact.phone
    async with http.post(f"{live.emulator_url}/demo/placed/{placed['call_id']}/pick-up", json={}) as response:
        picked = await response.json()
    assert response.status == 200 and picked["deal_id"] == deal.id, picked
    await eventually(lambda: _call_state(http, live, placed["call_id"], "ended"))
    calls = await crm.calls.of_deal(deal_id=deal.id, actor=tom)
    assert any(c.external_id == placed["call_id"] and c.direction == "outbound" for c in calls)


async def _bot_message(chat: EmulatedChat, user_id: int, text: str) -> Msg | None:
    return message_with(await chat.bot_messages(user_id), text)


async def _call_state(
    http: aiohttp.ClientSession, live: RunningDemo, call_id: str, wanted: str
) -> dict[str, Any] | None:
    async with http.get(f"{live.emulator_url}/demo/calls/{call_id}") as response:
        state = await response.json()
    return state if state["state"] == wanted else None


# -- starting it ---------------------------------------------------------------------------------


def test_a_taken_port_is_refused_in_one_sentence_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(typer.Exit) as exited:
            demo(host="127.0.0.1", port=port, http_port=0, data_dir=tmp_path)
    assert exited.value.exit_code == 1
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and f"Port {port}" in error and "--port" in error
    assert not (tmp_path / "demo.db").exists()


def test_an_unknown_demo_language_is_refused_in_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as exited:
        demo(host="127.0.0.1", port=0, http_port=0, data_dir=tmp_path, lang="fr")
    assert exited.value.exit_code == 1
    assert capsys.readouterr().err.strip() == "Unknown language 'fr': use en, ru or ar."
    assert not (tmp_path / "demo.db").exists()


def test_the_page_and_kanbot_cannot_share_a_port() -> None:
    with pytest.raises(DemoError, match="two ports"):
        check_ports("127.0.0.1", emulator_port=18999, http_port=18999)


def test_an_unknown_host_is_refused_with_the_option_that_fixes_it() -> None:
    with pytest.raises(DemoError, match=r"not an address of this machine.*--host 127\.0\.0\.1"):
        check_ports("no-such-host.invalid", emulator_port=0, http_port=0)


def test_an_unwritable_data_dir_is_refused_in_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    stop = asyncio.Event()
    with pytest.raises(DemoError, match="Cannot make the demo database in"):
        asyncio.run(run_demo(emulator_port=0, http_port=0, data_dir=blocker / "demo", stop=stop, say=print))


def test_a_fresh_demo_database_removes_only_the_old_demo_files(tmp_path: Path) -> None:
    for name in ("demo.db", "demo.db-wal", "notes.txt"):
        (tmp_path / name).write_text("old")
    url = fresh_database(tmp_path)
    assert url.endswith(str(tmp_path / "demo.db"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_kanbot_demo_runs_from_its_command_function_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    """`demo(...)` in its own process, as `kanbot demo` runs it; SIGINT is the terminal's Ctrl+C."""
    page, api = free_port(), free_port()
    code = (
        "from pathlib import Path\nfrom kanbot.cli.demo import demo\n"
        f"demo(host='127.0.0.1', port={page}, http_port={api}, data_dir=Path({str(tmp_path)!r}))\n"
    )
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        assert process.stdout is not None
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "Press Ctrl+C" in line or not line:
                break
        assert f"open http://127.0.0.1:{page}/" in "".join(lines), "".join(lines)
        with socket.create_connection(("127.0.0.1", page), timeout=5):
            pass
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "The demo has stopped." in output and "Traceback" not in output
    assert (tmp_path / "demo.db").exists()


# -- in the browser ------------------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium on the running demo's event loop."""
    async with chromium() as launched:
        yield launched


@pytest.mark.browser
@on_the_demo_loop
async def test_a_newcomer_picks_ali_and_simulates_a_call_from_the_telephony_panel(
    live: RunningDemo, browser: Any, http: aiohttp.ClientSession
) -> None:
    from playwright.async_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(60_000)  # a bound for a busy machine: each step waits for its element
    await page.goto(live.emulator_url)
    await page.wait_for_selector("#user-select option[value='2001']", state="attached")
    await page.select_option("#user-select", "2001")
    panel = page.locator(".panel", has_text="Telephony (demo PBX)")
    await panel.locator("select[name=extension] option").first.wait_for(state="attached")
    await page.wait_for_function("() => document.querySelector('select[name=extension]').value === '101'")
    number = await panel.locator("input[name=caller]").input_value()
    await panel.get_by_role("button", name="Simulate an incoming call").click()
    await panel.locator(".demo-pbx-result", has_text="Ali answered").wait_for()
    await page.locator(".message-row.from-bot", has_text=number).wait_for()
    await panel.locator(".demo-pbx-later", has_text="ended after").wait_for()
    await page.screenshot(path=str(ARTIFACTS / "demo-call.png"))

    await page.select_option("#user-select", "1001")
    # Another test may have asked for the board in Olga's chat already: this one is the next.
    earlier = len(await boards_in(EmulatedChat(live.emulator_url, http), OLGA.telegram_id))
    boards = page.locator(
        ".message-row.from-bot", has=page.locator(".inline-button", has_text="Commercial offer")
    )
    questions = page.locator(".message-row.from-bot", has_text="Which funnel?")
    asked = await questions.count()
    await page.fill("#text", "/board")
    await page.press("#text", "Enter")
    await expect(questions).to_have_count(asked + 1, timeout=60_000)  # two funnels: which one first
    await questions.last.locator(".inline-button", has_text="Sales").click()
    await expect(boards).to_have_count(earlier + 1, timeout=60_000)
    await still(page)
    await page.screenshot(path=str(ARTIFACTS / "demo-board.png"))

    await panel.locator("select[name=extension]").select_option("103")
    customers = panel.locator("select[name=customer] option")
    toms = await customers.filter(has_text="Stark Estates").get_attribute("value")
    assert toms is not None
    await panel.locator("select[name=customer]").select_option(toms)
    assert await panel.locator("input[name=caller]").input_value() == toms
    missed_before = await missed_calls_in(EmulatedChat(live.emulator_url, http), TOM.telegram_id)
    await panel.get_by_role("button", name="Simulate a missed call").click()
    await panel.locator(".demo-pbx-result", has_text="Missed call from").wait_for()
    await panel.get_by_role("button", name="Open Tom's chat").click()
    missed = page.locator(".message-row.from-bot", has_text="Missed call from")
    await expect(missed).to_have_count(missed_before + 1, timeout=60_000)
    assert await page.locator("#user-select").input_value() == "2003"
    await panel.get_by_role("button", name="Open Tom's chat").wait_for(state="detached")
    await still(page)
    await page.screenshot(path=str(ARTIFACTS / "demo-missed.png"))

    await page.set_viewport_size({"width": 390, "height": 844})
    await page.click("#panels-toggle")
    await panel.wait_for()
    await page.screenshot(path=str(ARTIFACTS / "demo-phone-panel.png"))


async def boards_in(chat: EmulatedChat, user_id: int) -> list[Msg]:
    """The board messages in ``user_id``'s chat (their stage buttons name Commercial offer)."""
    return [
        m for m in await chat.bot_messages(user_id) if any("Commercial offer" in t for t in m.button_texts)
    ]


async def missed_calls_in(chat: EmulatedChat, user_id: int) -> int:
    return sum("Missed call from" in m.text for m in await chat.bot_messages(user_id))


async def still(page: Any) -> None:
    """Until nothing on the page is moving (a new message scrolls into view): for a screenshot."""
    await page.wait_for_function("() => document.getAnimations().every((a) => a.playState !== 'running')")
