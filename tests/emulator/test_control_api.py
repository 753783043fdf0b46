"""The control API tests and the page act through: users, messages, clicks, wait, log, reset, bots, groups."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

from telegram_emulator import WORLD_KEY, Emulator
from tests.emulator.support import ANN, BOB, BOT_ID, Telegram

CARD = {
    "inline_keyboard": [
        [{"text": "Approve", "callback_data": "approve:1"}],
        [{"text": "Site", "url": "https://example.com"}],
    ]
}


async def test_creating_a_user_twice_updates_them(tg: Telegram) -> None:
    await tg.user(ANN, "Ann")
    updated = await tg.user(ANN, "Anna", username="anna", language_code="ru")
    assert updated == {
        "id": ANN,
        "is_bot": False,
        "first_name": "Anna",
        "username": "anna",
        "language_code": "ru",
    }
    assert await tg.get("/emulator/users") == [updated]


async def test_a_users_command_reaches_the_bot_with_bot_command_entities(tg: Telegram, ann: int) -> None:
    sent = await tg.send(ANN, "/deals@emulator_123456_bot won")
    [update] = await tg.ok("getUpdates")
    assert update["update_id"] == sent["update_id"]
    message = update["message"]
    assert message["message_id"] == sent["message_id"]
    assert message["entities"] == [{"offset": 0, "length": 26, "type": "bot_command"}]
    assert message["chat"] == {"id": ANN, "type": "private", "first_name": "Ann", "username": "ann"}
    assert message["from"] == {
        "id": ANN,
        "is_bot": False,
        "first_name": "Ann",
        "username": "ann",
        "language_code": "en",
    }


async def test_a_shared_contact_reaches_the_bot(tg: Telegram, ann: int) -> None:
    await tg.post("/emulator/messages", {"user_id": ANN, "contact": {"phone_number": "+4930123"}})
    [update] = await tg.ok("getUpdates")
    assert update["message"]["contact"] == {"phone_number": "+4930123", "first_name": "Ann", "user_id": ANN}


async def test_messages_from_unknown_users_or_without_text_are_refused(tg: Telegram, ann: int) -> None:
    assert (await tg.control("POST", "/emulator/messages", {"user_id": BOB, "text": "hi"}))[0] == 404
    assert (await tg.control("POST", "/emulator/messages", {"user_id": ANN}))[0] == 400
    assert (await tg.control("POST", "/emulator/messages", {"user_id": ANN, "text": " "}))[0] == 400


async def test_a_click_sends_a_callback_query_with_the_buttons_data_and_message(
    tg: Telegram, ann: int
) -> None:
    card = await tg.ok("sendMessage", chat_id=ANN, text="Deal", reply_markup=CARD)
    pressed = await tg.click(ANN, card["message_id"], "Approve")
    [update] = await tg.ok("getUpdates")
    query = update["callback_query"]
    assert (query["id"], query["data"], query["from"]["id"]) == (
        pressed["callback_query_id"],
        "approve:1",
        ANN,
    )
    assert query["message"]["message_id"] == card["message_id"]
    assert query["message"]["reply_markup"] == CARD


async def test_a_click_may_send_arbitrary_callback_data_as_a_modified_client_could(
    tg: Telegram, ann: int
) -> None:
    card = await tg.ok("sendMessage", chat_id=ANN, text="Deal", reply_markup=CARD)
    body = {"user_id": ANN, "message_id": card["message_id"], "callback_data": "delete:all"}
    await tg.post("/emulator/clicks", body)
    [update] = await tg.ok("getUpdates")
    assert update["callback_query"]["data"] == "delete:all"


async def test_clicking_a_button_that_is_not_there_is_404_and_lists_the_buttons(
    tg: Telegram, ann: int
) -> None:
    card = await tg.ok("sendMessage", chat_id=ANN, text="Deal", reply_markup=CARD)
    status, body = await tg.control(
        "POST", "/emulator/clicks", {"user_id": ANN, "message_id": card["message_id"], "button": "Reject"}
    )
    assert (status, body["buttons"]) == (404, ["Approve", "Site"])
    status, body = await tg.control(
        "POST", "/emulator/clicks", {"user_id": ANN, "message_id": 99, "button": "Approve"}
    )
    assert status == 404


async def test_clicking_a_url_button_sends_no_callback_query(tg: Telegram, ann: int) -> None:
    card = await tg.ok("sendMessage", chat_id=ANN, text="Deal", reply_markup=CARD)
    status, body = await tg.control(
        "POST", "/emulator/clicks", {"user_id": ANN, "message_id": card["message_id"], "button": "Site"}
    )
    assert (status, body["button"]) == (400, {"text": "Site", "url": "https://example.com"})


async def test_a_callback_answer_is_404_until_the_bot_answers(tg: Telegram, ann: int) -> None:
    card = await tg.ok("sendMessage", chat_id=ANN, text="Deal", reply_markup=CARD)
    pressed = await tg.click(ANN, card["message_id"], "Approve")
    path = f"/emulator/callback_answers/{pressed['callback_query_id']}"
    assert (await tg.control("GET", path))[0] == 404
    await tg.ok(
        "answerCallbackQuery", callback_query_id=pressed["callback_query_id"], text="Saved", show_alert=True
    )
    assert await tg.get(path) == {"text": "Saved", "show_alert": True, "url": None, "cache_time": 0}


async def test_wait_times_out_with_408_and_says_what_is_pending(tg: Telegram, ann: int) -> None:
    sent = await tg.send(ANN, "anyone?")
    status, body = await tg.control("POST", "/emulator/wait", {"quiet_ms": 10, "timeout_ms": 200})
    assert status == 408
    assert f"updates not yet confirmed by getUpdates or the webhook: {sent['update_id']}" in body["error"]


async def test_wait_counts_an_unanswered_callback_query_as_pending(tg: Telegram, ann: int) -> None:
    card = await tg.ok("sendMessage", chat_id=ANN, text="Deal", reply_markup=CARD)
    pressed = await tg.click(ANN, card["message_id"], "Approve")
    [update] = await tg.ok("getUpdates")
    await tg.ok("getUpdates", offset=update["update_id"] + 1)
    status, body = await tg.control("POST", "/emulator/wait", {"quiet_ms": 10, "timeout_ms": 200})
    assert (status, "callback queries not answered" in body["error"]) == (408, True)
    await tg.ok("answerCallbackQuery", callback_query_id=pressed["callback_query_id"])
    await tg.wait(quiet_ms=10)


async def test_wait_ignores_a_long_poll_that_is_just_waiting(tg: Telegram, ann: int) -> None:
    poll = asyncio.create_task(tg.ok("getUpdates", timeout=3))
    await asyncio.sleep(0.05)
    reply = await tg.wait(quiet_ms=100, timeout_ms=1000)
    assert reply["ok"] is True
    assert reply["waited_ms"] < 1000
    await tg.send(ANN, "wake up")
    assert len(await poll) == 1


async def test_wait_with_no_bot_at_all_is_a_409_after_its_timeout(tg: Telegram) -> None:
    status, body = await tg.control("POST", "/emulator/wait", {"timeout_ms": 100})
    assert status == 409
    assert "no bot has called the Bot API yet" in body["error"]


async def test_a_message_posted_while_the_bot_is_still_starting_waits_for_it(tg: Telegram) -> None:
    await tg.user(ANN, "Ann")
    posting = asyncio.create_task(tg.send(ANN, "/start"))
    await asyncio.sleep(0.1)
    await tg.ok("getMe")
    assert (await posting)["message_id"] == 1


async def test_the_log_records_every_bot_api_request(tg: Telegram, ann: int) -> None:
    await tg.ok("sendMessage", chat_id=ANN, text="hi")
    await tg.api("sendMessage", chat_id=ANN, text="")
    entries = await tg.get("/emulator/log?method=sendMessage")
    assert [(e["method"], e["status"], e["error"], e["bot_id"]) for e in entries] == [
        ("sendMessage", 200, None, BOT_ID),
        ("sendMessage", 400, "Bad Request: message text is empty", BOT_ID),
    ]
    assert entries[0]["params"] == {"chat_id": ANN, "text": "hi"}
    assert isinstance(entries[0]["time"], float)


async def test_reset_forgets_everything(tg: Telegram, ann: int) -> None:
    await tg.ok("sendMessage", chat_id=ANN, text="hi")
    await tg.limits(enforce=False)
    await tg.post("/emulator/reset")
    assert await tg.get("/emulator/users") == []
    assert await tg.get("/emulator/bots") == []
    assert await tg.get("/emulator/log") == []
    assert (await tg.get("/emulator/limits"))["enforce"] is True


async def test_update_ids_keep_growing_across_a_reset_so_a_running_bot_misses_nothing(
    tg: Telegram, ann: int
) -> None:
    before = await tg.send(ANN, "one")
    await tg.post("/emulator/reset")
    await tg.user(ANN, "Ann")
    await tg.ok("getMe")
    after = await tg.send(ANN, "two")
    assert after["update_id"] > before["update_id"]
    assert len(await tg.ok("getUpdates", offset=before["update_id"] + 1)) == 1


async def test_a_registered_username_is_what_get_me_returns(tg: Telegram) -> None:
    await tg.post("/emulator/bots", {"token": "777:x", "username": "kanbot_demo_bot", "first_name": "Kanbot"})
    me = await tg.ok("getMe", token="777:x")
    assert (me["username"], me["first_name"]) == ("kanbot_demo_bot", "Kanbot")


async def test_control_calls_go_to_the_named_bot_or_to_the_one_that_called_last(
    tg: Telegram, ann: int
) -> None:
    await tg.ok("getMe", token="555:other")  # the other bot called last
    await tg.send(ANN, "to the latest")
    await tg.send(ANN, "to the first", bot_id=BOT_ID)
    assert [u["message"]["text"] for u in await tg.ok("getUpdates", token="555:other")] == ["to the latest"]
    assert [u["message"]["text"] for u in await tg.ok("getUpdates")] == ["to the first"]
    assert [m["text"] for m in await tg.messages(ANN, bot_id=555)] == ["to the latest"]


async def test_a_group_gets_commands_but_not_chatter_from_a_bot_in_privacy_mode(
    tg: Telegram, ann: int
) -> None:
    group = await tg.post("/emulator/chats", {"title": "Sales team"})
    assert group["id"] < 0
    assert group["type"] == "group"
    chatter = await tg.send(ANN, "lunch?", chat_id=group["id"])
    command = await tg.send(ANN, "/report", chat_id=group["id"])
    other_bot = await tg.send(ANN, "/report@someone_else_bot", chat_id=group["id"])
    assert (chatter["update_id"], other_bot["update_id"]) == (None, None)
    [update] = await tg.ok("getUpdates")
    assert update["update_id"] == command["update_id"]
    assert update["message"]["chat"] == {"id": group["id"], "type": "group", "title": "Sales team"}
    await tg.ok("sendMessage", chat_id=group["id"], text="Report: 3 deals")
    assert [m["from"] for m in await tg.messages(group["id"])] == ["user", "user", "user", "bot"]


async def test_a_bot_that_reads_all_group_messages_gets_the_chatter_too(tg: Telegram, ann: int) -> None:
    await tg.post("/emulator/bots", {"id": BOT_ID, "can_read_all_group_messages": True})
    group = await tg.post("/emulator/chats", {"title": "Sales team", "type": "supergroup"})
    assert (await tg.send(ANN, "lunch?", chat_id=group["id"]))["update_id"] is not None


async def test_the_page_is_served_with_its_modules(tg: Telegram) -> None:
    for path, kind in [
        ("/", "text/html"),
        ("/static/app.js", "javascript"),
        ("/static/style.css", "text/css"),
    ]:
        async with tg.http.get(f"{tg.url}{path}") as response:
            assert response.status == 200
            assert kind in response.content_type
    assert await tg.get("/emulator/config") == {"page_extensions": []}


async def test_extra_routes_are_served_and_reach_the_emulators_state() -> None:
    async def user_ids(request: web.Request) -> web.Response:
        world = request.app[WORLD_KEY]
        return web.json_response({"users": sorted(world.users), "bots": sorted(world.bots)})

    async with (
        Emulator(
            extra_routes=[web.get("/miniapp/state", user_ids)], page_extensions=["/miniapp/panel.js"]
        ) as emu,
        aiohttp.ClientSession() as http,
    ):
        tg = Telegram(emu.url, http)
        await tg.user(ANN, "Ann")
        await tg.ok("getMe")
        assert await tg.get("/miniapp/state") == {"users": [ANN], "bots": [BOT_ID]}
        assert await tg.get("/emulator/config") == {"page_extensions": ["/miniapp/panel.js"]}
