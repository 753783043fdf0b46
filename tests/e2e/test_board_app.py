"""The board's Mini App in headless Chromium: opened from the chat in the emulator, cards dragged with
a mouse and with a finger, moves that land in the database and come back to the chat as a card."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crm_core.domain.deals import Deal
from crm_core.domain.users import Role
from crm_core.services import Crm
from crm_core.services.fields import fields_spec_from_document
from kanbot.settings import ServerSettings
from telegram_emulator import Emulator
from tests.e2e.harness import ALI, BOSS, MARIA, EmulatedChat, RunningKanbot, crm_at, settings_for
from tests.support.network import free_port
from tests.support.team import Guest

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
OMAR = 2003


@dataclass
class Scene:
    acme: Deal
    northwind: Deal
    initech: Deal
    omar_deal: Deal


async def set_the_scene(crm: Crm) -> Scene:
    """Ali's funnel with a deal or two in every stage (one of them stale), Maria's, and Omar's in Arabic."""
    ali = await crm.users.identify(ALI)
    olga = await crm.users.identify(BOSS)
    maria = await crm.users.identify(MARIA)
    omar = await crm.users.add(telegram_id=OMAR, name="Omar", role=Role.SELLER, locale="ar")
    now = datetime.now(UTC)
    past = crm_at(crm, now - timedelta(days=10))
    initech = await past.deals.create(
        actor=ali,
        title="Initech: SIP trunk",
        contact_name="Peter Gibbons",
        amount="2 400",
        stage="Opportunity",
    )
    inbox = await crm.deals.create(actor=olga, title="Missed call +7 916 555-01-02", phone="+79165550102")
    await crm.deals.reassign(deal_id=inbox.id, owner_telegram_id=None, actor=olga)
    await crm.deals.create(actor=ali, title="Website form: Orion LLC", contact_name="Olga Orlova")
    northwind = await crm.deals.create(
        actor=ali,
        title="Northwind: call center",
        contact_name="Anna Smirnova",
        amount="12000",
        stage="Opportunity",
    )
    acme = await crm.deals.create(
        actor=ali,
        title="ACME: 20 IP phones",
        contact_name="Ivan Petrov",
        amount="1500.50",
        stage="Opportunity",
    )
    for title, contact, amount, stage in [
        ("Globex PBX upgrade", "Hank Scorpio", "4200", "Commercial offer"),
        ("Umbrella Corp: 50 headsets", "Albert Wesker", "7800", "Document approval"),
        ("Stark Industries: VoIP", "Pepper Potts", "25000", "Signing & payment"),
        ("Wayne Enterprises: office phones", "Lucius Fox", "9900", "Execution"),
    ]:
        await crm.deals.create(actor=ali, title=title, contact_name=contact, amount=amount, stage=stage)
    hooli = await crm.deals.create(actor=ali, title="Hooli: conference kit", amount="3300", stage="Execution")
    await crm.deals.mark_won(deal_id=hooli.id, actor=ali)
    soylent = await crm.deals.create(
        actor=ali, title="Soylent: cheap phones", amount="600", stage="Opportunity"
    )
    await crm.deals.mark_lost(deal_id=soylent.id, reason="Price", actor=ali)
    await crm.deals.create(actor=maria, title="Maria's Globex deal", amount="4200", stage="Opportunity")
    omar_deal = await crm.deals.create(
        actor=omar, title="شركة النور: 30 هاتفًا", contact_name="سارة أحمد", amount="8400", stage="Opportunity"
    )
    await crm.deals.create(
        actor=omar, title="مكتب الرياض: مقسم", contact_name="خالد", amount="15000", stage="Commercial offer"
    )
    return Scene(acme, northwind, initech, omar_deal)


@pytest.fixture
async def scene(crm: Crm) -> Scene:
    return await set_the_scene(crm)


@pytest.fixture
async def kanbot(
    crm: Crm, scene: Scene, database_url: str, emulator: Emulator
) -> AsyncIterator[RunningKanbot]:
    settings = settings_for(database_url, emulator.url)
    settings.server = ServerSettings(_env_file=None, http_host="127.0.0.1", http_port=free_port())
    running = RunningKanbot(settings)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
def guests() -> tuple[Guest, ...]:
    return ((OMAR, "Omar", "ar"),)


async def chat_page(browser: Any, emulator: Emulator, user_id: int, **context: Any) -> Any:
    """The emulator's chat page, as ``user_id``."""
    page = await (await browser.new_context(**context)).new_page()
    page.set_default_timeout(10_000)
    await page.goto(emulator.url)
    await page.wait_for_selector(f"#user-select option[value='{user_id}']", state="attached")
    await page.select_option("#user-select", str(user_id))
    return page


async def open_board_from_the_chat(page: Any) -> Any:
    """/board, then its "Open the board app" button: the Mini App's frame, once its cards are there."""
    await page.fill("#text", "/board")
    await page.press("#text", "Enter")
    await page.locator(".inline-button.kind-web-app").last.click()
    frame = page.frame_locator(".miniapp-frame")
    await frame.locator(".card").first.wait_for()
    await page.locator(".miniapp.ready").wait_for(state="attached")
    return frame


def column(frame: Any, stage: str) -> Any:
    return frame.locator(f".column[aria-label='{stage}']")


def card(frame: Any, title: str) -> Any:
    return frame.locator(".card", has_text=title)


async def center(locator: Any, *, dy: float | None = None) -> tuple[float, float]:
    box = await locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + (box["height"] / 2 if dy is None else dy)


async def mouse_drag(page: Any, source: Any, target: Any) -> None:
    """Press on ``source``, move in steps onto ``target``, release: real pointer events."""
    x, y = await center(source)
    tx, ty = await center(target, dy=140)
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x + 8, y + 4, steps=3)
    await page.mouse.move(tx, ty, steps=15)
    await page.mouse.up()


async def stage_of(crm: Crm, deal: Deal, telegram_id: int = ALI) -> str:
    return (await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(telegram_id))).stage.name


async def test_a_seller_drags_a_card_to_the_next_stage_and_the_chat_shows_it(
    chat: EmulatedChat, crm: Crm, scene: Scene, emulator: Emulator, browser: Any, artifacts: Path
) -> None:
    page = await chat_page(browser, emulator, ALI, viewport=DESKTOP)
    assert await page.locator("#menu-button").inner_text() == "Board"  # the menu button opens it too
    frame = await open_board_from_the_chat(page)
    titles = [
        t.split("\n")[0] for t in await column(frame, "Opportunity").locator(".card-title").all_inner_texts()
    ]
    assert titles == ["ACME: 20 IP phones", "Northwind: call center", "Initech: SIP trunk"]  # newest first
    assert await card(frame, "Initech").locator(".age").inner_text() == "⏰ 10 days"
    assert await card(frame, "Maria's").count() == 0
    await page.screenshot(path=str(artifacts / "board-desktop-en.png"))
    await frame.locator("#toast").wait_for(state="hidden")  # the first visit's hint
    await page.locator(".miniapp-window").screenshot(path=str(artifacts / "board-window-en.png"))

    await mouse_drag(page, card(frame, "ACME"), column(frame, "Commercial offer"))
    await frame.locator(".toast", has_text="Moved to Commercial offer").wait_for()
    assert await stage_of(crm, scene.acme) == "Commercial offer"
    await column(frame, "Commercial offer").locator(".card", has_text="ACME").wait_for()
    await chat.wait_until(
        lambda: _said(chat, ALI, "Moved to Commercial offer on the board."), what="the card in the chat"
    )
    await page.locator(".miniapp-close").click()
    notice = page.locator(".message-row.from-bot", has_text="on the board")
    await notice.wait_for()
    assert "ACME: 20 IP phones" in await notice.inner_text()
    await page.screenshot(path=str(artifacts / "board-chat-after-move.png"))


async def _said(chat: EmulatedChat, user_id: int, text: str) -> bool:
    return any(text in m.text for m in await chat.bot_messages(user_id))


async def test_a_refused_move_snaps_back_with_the_reason(
    chat: EmulatedChat, crm: Crm, scene: Scene, emulator: Emulator, browser: Any
) -> None:
    page = await chat_page(browser, emulator, ALI, viewport=DESKTOP)
    frame = await open_board_from_the_chat(page)
    ali = await crm.users.identify(ALI)
    await crm.deals.add_note(deal_id=scene.northwind.id, text="called them", actor=ali)  # meanwhile
    await mouse_drag(page, card(frame, "Northwind"), column(frame, "Commercial offer"))
    await frame.locator(".toast.error", has_text="changed meanwhile").wait_for()
    await settled(frame, column(frame, "Opportunity").locator(".card", has_text="Northwind"))  # flown home
    assert await column(frame, "Commercial offer").locator(".card", has_text="Northwind").count() == 0
    assert await stage_of(crm, scene.northwind) == "Opportunity"

    await mouse_drag(page, card(frame, "Missed call"), column(frame, "Opportunity"))  # nobody's yet
    await frame.locator(".toast.error", has_text="take it first").wait_for()


async def test_lost_asks_for_the_reason_from_the_cards_details(
    chat: EmulatedChat, crm: Crm, scene: Scene, emulator: Emulator, browser: Any, artifacts: Path
) -> None:
    page = await chat_page(browser, emulator, ALI, viewport=DESKTOP)
    frame = await open_board_from_the_chat(page)
    await card(frame, "Initech").click()
    sheet = frame.locator("#sheet")
    await sheet.locator(".history li", has_text="created in Opportunity").wait_for()
    assert "Peter Gibbons" in await sheet.inner_text()
    await page.screenshot(path=str(artifacts / "board-details-en.png"))
    await sheet.locator(".chip", has_text="Lost").click()
    ask = frame.locator("#ask")
    await ask.locator(".choice", has_text="Other").click()
    await ask.locator("#ask-text").fill("They went quiet")
    await page.screenshot(path=str(artifacts / "board-lost-en.png"))
    await ask.locator("#ask-ok").click()
    await frame.locator(".toast", has_text="Marked as lost").wait_for()
    deal = await crm.deals.get(deal_id=scene.initech.id, actor=await crm.users.identify(ALI))
    assert deal.stage.name == "Lost" and (deal.lost_reason, deal.lost_note) == ("Other", "They went quiet")


async def test_a_boss_sees_everyone_and_picks_a_seller_in_telegrams_dark_theme(
    chat: EmulatedChat, crm: Crm, scene: Scene, emulator: Emulator, browser: Any, artifacts: Path
) -> None:
    page = await chat_page(browser, emulator, BOSS, viewport=DESKTOP, color_scheme="dark")
    frame = await open_board_from_the_chat(page)
    await card(frame, "Maria's Globex deal").wait_for()
    background = await frame.locator("html").evaluate("node => getComputedStyle(node).backgroundColor")
    assert background == "rgb(14, 22, 33)"  # the emulator's dark secondary_bg_color, as themeParams
    assert await card(frame, "ACME").locator(".owner").get_attribute("title") == "Ali"
    await frame.locator("#toast").wait_for(state="hidden")
    await page.screenshot(path=str(artifacts / "board-desktop-dark-boss.png"))
    await frame.locator("#seller").select_option(str(MARIA))
    await frame.locator("#subtitle", has_text="Maria").wait_for()
    assert await frame.locator(".card").all_inner_texts() != []
    assert await frame.locator(".card", has_text="ACME").count() == 0


async def test_a_finger_drags_a_card_on_a_phone(
    chat: EmulatedChat, crm: Crm, scene: Scene, emulator: Emulator, browser: Any, artifacts: Path
) -> None:
    page = await chat_page(browser, emulator, ALI, viewport=PHONE, has_touch=True, is_mobile=True)
    await page.locator("#menu-button").click()  # the chat's menu button, beside the input
    frame = page.frame_locator(".miniapp-frame")
    await card(frame, "ACME").wait_for()
    await page.wait_for_timeout(300)
    await page.screenshot(path=str(artifacts / "board-phone-en.png"))
    await frame.locator(".column").nth(1).evaluate("node => node.scrollIntoView({inline: 'start'})")
    await page.wait_for_timeout(400)
    x, y = await center(card(frame, "ACME"))
    cdp = await page.context.new_cdp_session(page)

    async def touch(kind: str, px: float, py: float) -> None:
        points = [] if kind == "touchEnd" else [{"x": px, "y": py}]
        await cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    await touch("touchStart", x, y)
    # a finger holds before it drags, so a swipe still scrolls: wait until the board has lifted the card
    await frame.locator("body.dragging").wait_for(state="attached")
    edge_x = PHONE["width"] - 40  # near the edge: the board scrolls the next stage in
    for i in range(1, 11):
        await touch("touchMove", x + (edge_x - x) * i / 10, y + 3 * i)
        await page.wait_for_timeout(16)
    target = column(frame, "Commercial offer")
    for _ in range(200):
        box = await target.bounding_box()
        if box is not None and box["x"] < 150:
            break
        await page.wait_for_timeout(15)
    else:
        raise AssertionError("the board did not scroll the next stage in")
    tx = max(box["x"], 0) + min(box["width"], PHONE["width"]) / 2  # off the edges: the scrolling stops
    for i in range(1, 6):
        await touch("touchMove", edge_x + (tx - edge_x) * i / 5, y + 30)
        await page.wait_for_timeout(16)
    await page.screenshot(path=str(artifacts / "board-phone-dragging.png"))
    await touch("touchEnd", 0, 0)
    await frame.locator(".toast", has_text="Moved to Commercial offer").wait_for()
    assert await stage_of(crm, scene.acme) == "Commercial offer"


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
async def test_the_board_reads_right_to_left_in_arabic(
    chat: EmulatedChat,
    crm: Crm,
    scene: Scene,
    emulator: Emulator,
    browser: Any,
    artifacts: Path,
    viewport: dict[str, int],
    name: str,
) -> None:
    page = await chat_page(browser, emulator, OMAR, viewport=viewport, has_touch=name == "phone")
    await page.locator("#menu-button").click()
    frame = page.frame_locator(".miniapp-frame")
    await card(frame, "شركة النور").wait_for()
    assert await frame.locator("html").get_attribute("dir") == "rtl"
    assert await frame.locator("html").get_attribute("lang") == "ar"
    first, second = frame.locator(".column").nth(0), frame.locator(".column").nth(1)
    assert (await center(first))[0] > (await center(second))[0]  # the first stage is on the right
    await page.wait_for_timeout(300)
    await page.screenshot(path=str(artifacts / f"board-{name}-ar.png"))
    if name == "desktop":
        await mouse_drag(page, card(frame, "شركة النور"), frame.locator(".column").nth(2))
        await frame.locator(".toast.success").wait_for()
        assert await stage_of(crm, scene.omar_deal, OMAR) == "Commercial offer"


# -- on a phone: the card's sheet moves, notes and edits; a drop that does nothing says why ----------


async def open_board_on_a_phone(browser: Any, emulator: Emulator, user_id: int) -> tuple[Any, Any]:
    """The board opened from the chat's menu button on a 390×844 touch screen: the page and the app."""
    page = await chat_page(browser, emulator, user_id, viewport=PHONE, has_touch=True, is_mobile=True)
    await page.locator("#menu-button").click()
    frame = page.frame_locator(".miniapp-frame")
    await frame.locator(".card").first.wait_for()
    await page.locator(".miniapp.ready").wait_for(state="attached")
    return page, frame


async def open_sheet(frame: Any, title: str) -> Any:
    """Tap (or click) a card: its sheet, once its history is there."""
    await card(frame, title).first.click()
    sheet = frame.locator("#sheet")
    await sheet.locator(".history li").first.wait_for()
    return sheet


async def card_history_in_the_chat(chat: EmulatedChat, user_id: int, title: str) -> str:
    """The deal's history as the chat shows it: /find, its card, History (under "More" if it is there)."""
    await chat.send(user_id, f"/find {title}")
    await chat.click(user_id, title)
    card_message = await chat.last(user_id)
    if not any("History" in label for label in card_message.button_texts):
        await chat.click(user_id, "More", message_id=card_message.message_id)
    await chat.click(user_id, "History")
    return (await chat.last(user_id)).text


async def test_on_a_phone_the_stage_picker_moves_a_card_without_dragging(
    chat: EmulatedChat, crm: Crm, scene: Scene, emulator: Emulator, browser: Any, artifacts: Path
) -> None:
    page, frame = await open_board_on_a_phone(browser, emulator, ALI)
    sheet = await open_sheet(frame, "ACME")
    here = sheet.locator(".picker .chip.here")
    assert await here.inner_text() == "Opportunity" and await here.is_disabled()  # where it is now
    await page.screenshot(path=str(artifacts / "board-phone-sheet-en.png"))
    await sheet.locator(".picker .chip", has_text="Commercial offer").tap()
    await frame.locator(".toast", has_text="Moved to Commercial offer").wait_for()
    assert await stage_of(crm, scene.acme) == "Commercial offer"
    await column(frame, "Commercial offer").locator(".card", has_text="ACME").wait_for()
    await chat.wait_until(
        lambda: _said(chat, ALI, "Moved to Commercial offer on the board."), what="the card in the chat"
    )


async def test_a_note_written_on_the_sheet_is_in_the_chats_card_history(
    chat: EmulatedChat, crm: Crm, scene: Scene, emulator: Emulator, browser: Any
) -> None:
    _page, frame = await open_board_on_a_phone(browser, emulator, ALI)
    sheet = await open_sheet(frame, "Northwind")
    await sheet.locator(".note-form textarea").fill("Wants a demo of the call recording")
    await sheet.locator(".note-form button[type=submit]").tap()
    await frame.locator(".toast", has_text="Note saved").wait_for()
    await sheet.locator(".history li", has_text="Wants a demo of the call recording").wait_for()
    events = await crm.deals.history(deal_id=scene.northwind.id, actor=await crm.users.identify(ALI))
    assert events[-1].data["text"] == "Wants a demo of the call recording"
    assert "Wants a demo of the call recording" in await card_history_in_the_chat(chat, ALI, "Northwind")


async def test_the_amount_and_the_title_are_edited_on_the_sheet_and_bad_input_is_explained(
    chat: EmulatedChat, crm: Crm, scene: Scene, emulator: Emulator, browser: Any, artifacts: Path
) -> None:
    page, frame = await open_board_on_a_phone(browser, emulator, ALI)
    sheet = await open_sheet(frame, "Initech")
    await sheet.locator(".detail-amount").tap()
    amount = sheet.locator(".edit-form[data-field=amount]")
    await amount.locator("input").fill("12,3,4")
    await amount.locator("button[type=submit]").tap()
    error = amount.locator(".form-error")
    await error.wait_for()
    assert await error.inner_text() == "That amount doesn't work: the separators do not make a number."
    await page.screenshot(path=str(artifacts / "board-phone-edit-error-en.png"))
    await amount.locator("input").fill("3 150,50")
    await amount.locator("button[type=submit]").tap()
    await frame.locator(".toast", has_text="Saved.").wait_for()
    await sheet.locator(".detail-amount", has_text="3,150.50").wait_for()
    await card(frame, "Initech").locator(".amount", has_text="3,150.50").wait_for()  # the board's card too

    await frame.locator("#sheet-edit-title").tap()
    title = sheet.locator(".edit-form[data-field=title]")
    await title.locator("input").fill("Initech: SIP trunk, 30 lines")
    await title.locator("button[type=submit]").tap()
    await frame.locator("#sheet-title", has_text="Initech: SIP trunk, 30 lines").wait_for()
    deal = await crm.deals.get(deal_id=scene.initech.id, actor=await crm.users.identify(ALI))
    assert (deal.title, str(deal.amount)) == ("Initech: SIP trunk, 30 lines", "3150.50")
    await sheet.locator(".history li", has_text="30 lines").wait_for()


async def test_an_edit_on_a_card_changed_meanwhile_is_refused_and_the_sheet_shows_it_as_it_is(
    chat: EmulatedChat, crm: Crm, scene: Scene, emulator: Emulator, browser: Any
) -> None:
    _page, frame = await open_board_on_a_phone(browser, emulator, ALI)
    sheet = await open_sheet(frame, "Initech")
    ali = await crm.users.identify(ALI)
    await crm.deals.edit(deal_id=scene.initech.id, field="amount", value="999", actor=ali)  # in the chat
    await sheet.locator(".detail-amount").tap()
    await sheet.locator(".edit-form[data-field=amount] input").fill("5000")
    await sheet.locator(".edit-form[data-field=amount] button[type=submit]").tap()
    await frame.locator(".toast.error", has_text="changed meanwhile").wait_for()
    await sheet.locator(".detail-amount", has_text="999").wait_for()
    assert (await crm.deals.get(deal_id=scene.initech.id, actor=ali)).amount == 999


async def test_a_seller_reads_the_cores_refusal_in_their_own_language_on_the_sheet(
    chat: EmulatedChat, crm: Crm, scene: Scene, emulator: Emulator, browser: Any
) -> None:
    _page, frame = await open_board_on_a_phone(browser, emulator, OMAR)
    sheet = await open_sheet(frame, "شركة النور")
    await sheet.locator(".detail-amount").tap()
    amount = sheet.locator(".edit-form[data-field=amount]")
    await amount.locator("input").fill("-5")
    await amount.locator("button[type=submit]").tap()
    await amount.locator(".form-error").wait_for()
    assert await amount.locator(".form-error").inner_text() == (
        "قيمة «المبلغ» غير صالحة: المطلوب رقم موجب مثل 1500 أو 1 500,50."
    )


async def settled(frame: Any, locator: Any) -> None:
    """Once the board is fresh again after a move, and ``locator`` is there and done moving (a refused
    card flies home, then shakes)."""
    await frame.locator("#board[aria-busy=false]").wait_for()
    await locator.wait_for()
    await locator.evaluate(
        "node => Promise.all(node.getAnimations().map((a) => a.finished.catch(() => null)))"
    )


async def show_column(frame: Any, stage: str) -> None:
    """Scroll the phone's board to ``stage``'s column and wait until it stands at the screen's start."""
    await column(frame, stage).evaluate("node => node.scrollIntoView({inline: 'start'})")
    await frame.locator("body").evaluate(
        """(body, stage) => new Promise((done) => {
            const node = body.querySelector(`.column[aria-label="${stage}"]`);
            const check = () => (node.getBoundingClientRect().left < 20 ? done() : setTimeout(check, 20));
            check();
        })""",
        stage,
    )


async def carry_and_drop_in_place(page: Any, source: Any) -> None:
    """With a finger: hold a card, carry it down its own column and let go there."""
    x, y = await center(source)
    cdp = await page.context.new_cdp_session(page)

    async def touch(kind: str, px: float, py: float) -> None:
        points = [] if kind == "touchEnd" else [{"x": px, "y": py}]
        await cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    await touch("touchStart", x, y)
    # a finger holds before it drags: wait until the board has lifted the card
    await page.frame_locator(".miniapp-frame").locator("body.dragging").wait_for(state="attached")
    for i in range(1, 11):
        await touch("touchMove", x + i, y + 9 * i)
        await page.wait_for_timeout(16)
    await touch("touchEnd", 0, 0)


async def test_a_drop_that_changes_nothing_says_why_in_the_cores_words(
    chat: EmulatedChat, crm: Crm, scene: Scene, emulator: Emulator, browser: Any, artifacts: Path
) -> None:
    page, frame = await open_board_on_a_phone(browser, emulator, ALI)
    await frame.locator("#toast").wait_for(state="hidden")  # the first visit's hint
    version = (await crm.deals.get(deal_id=scene.acme.id, actor=await crm.users.identify(ALI))).version

    await show_column(frame, "Opportunity")
    await carry_and_drop_in_place(page, card(frame, "ACME"))  # its own column
    await frame.locator(".toast.error", has_text="already in this stage").wait_for()
    await page.screenshot(path=str(artifacts / "board-phone-same-column.png"))
    assert await column(frame, "Opportunity").locator(".card", has_text="ACME").count() == 1
    deal = await crm.deals.get(deal_id=scene.acme.id, actor=await crm.users.identify(ALI))
    assert (deal.stage.name, deal.version) == ("Opportunity", version)

    await frame.locator("#toast").wait_for(state="hidden")  # so the next one is the next drop's
    await show_column(frame, "Unsorted")
    await carry_and_drop_in_place(page, card(frame, "Missed call"))  # nobody's yet: no rights
    await frame.locator(".toast.error", has_text="Nobody has taken this deal yet").wait_for()


async def test_a_closed_card_dropped_on_another_column_says_where_it_reopens(
    chat: EmulatedChat, crm: Crm, scene: Scene, emulator: Emulator, browser: Any
) -> None:
    page = await chat_page(browser, emulator, ALI, viewport=DESKTOP)
    frame = await open_board_from_the_chat(page)
    await frame.locator("#toast").wait_for(state="hidden")  # the first visit's hint
    await column(frame, "Lost").evaluate("node => node.scrollIntoView({inline: 'end'})")
    await mouse_drag(page, card(frame, "Soylent"), column(frame, "Execution"))
    await frame.locator(".toast.error", has_text="reopens only in Opportunity").wait_for()
    await settled(frame, column(frame, "Lost").locator(".card", has_text="Soylent"))
    await mouse_drag(page, card(frame, "Soylent"), column(frame, "Won"))  # no reason asked: it is closed
    await frame.locator(".toast.error", has_text="The deal is closed").wait_for()
    assert await frame.locator("#ask").is_hidden()
    sheet = await open_sheet(frame, "Soylent")  # its picker offers the one way back
    assert await sheet.locator(".picker .chip:not(.here)").all_inner_texts() == ["Reopen in Opportunity"]


@pytest.mark.parametrize("user_id", [ALI, OMAR])
async def test_on_a_phone_the_boards_summary_wraps_instead_of_being_cut(
    chat: EmulatedChat, crm: Crm, scene: Scene, emulator: Emulator, browser: Any, user_id: int
) -> None:
    _, frame = await open_board_on_a_phone(browser, emulator, user_id)
    subtitle = frame.locator("#subtitle")
    text = await subtitle.inner_text()
    assert "·" in text  # whose, how many and how much, the inbox to take from
    assert await subtitle.evaluate("node => node.scrollWidth <= node.clientWidth"), text


async def test_the_teams_own_fields_are_shown_and_edited_on_the_sheet(
    chat: EmulatedChat, crm: Crm, scene: Scene, emulator: Emulator, browser: Any
) -> None:
    spec = fields_spec_from_document(
        {"fields": [{"key": "seats", "type": "number", "names": {"en": "Seats"}}]}
    )
    assert spec is not None
    await crm.fields.apply(spec)
    _page, frame = await open_board_on_a_phone(browser, emulator, ALI)
    sheet = await open_sheet(frame, "Initech")
    await sheet.locator(".own-field", has_text="Seats: —").tap()
    seats = sheet.locator(".edit-form[data-field=seats]")
    await seats.locator("input").fill("a dozen")
    await seats.locator("button[type=submit]").tap()
    error = seats.locator(".form-error")
    await error.wait_for()
    assert await error.inner_text() == "That Seats doesn't work: a number such as 12 or 12.5."
    await seats.locator("input").fill("12")
    await seats.locator("button[type=submit]").tap()
    await frame.locator(".toast", has_text="Saved.").wait_for()
    await sheet.locator(".own-field", has_text="Seats: 12").wait_for()
    ali = await crm.users.identify(ALI)
    assert await crm.deals.field_values(deal_id=scene.initech.id, actor=ali) == {"seats": ("12",)}
