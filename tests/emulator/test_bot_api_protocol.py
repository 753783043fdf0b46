"""The Bot API's plumbing: tokens, method names, parameter encodings, getUpdates' offsets and long polls."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from tests.emulator.support import ANN, BOT_ID, PNG, TOKEN, Telegram


async def test_any_token_is_a_bot_whose_id_is_the_digits_before_the_colon(tg: Telegram) -> None:
    me = await tg.ok("getMe", token="987654:anything")
    assert me == {
        "id": 987654,
        "is_bot": True,
        "first_name": "Emulator bot 987654",
        "username": "emulator_987654_bot",
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


async def test_a_malformed_token_or_an_unknown_method_is_404_not_found(tg: Telegram) -> None:
    not_found = (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert await tg.api("getMe", token="not-a-token") == not_found
    assert await tg.api("sendTelepathy") == not_found


async def test_method_names_are_case_insensitive(tg: Telegram) -> None:
    assert (await tg.ok("GETME"))["id"] == BOT_ID
    assert (await tg.ok("getme"))["id"] == BOT_ID


async def test_parameters_come_as_query_string_form_or_multipart_too(tg: Telegram, ann: int) -> None:
    base = f"{tg.url}/bot{TOKEN}"
    async with tg.http.get(f"{base}/sendMessage", params={"chat_id": ANN, "text": "by query"}) as response:
        assert (await response.json())["result"]["text"] == "by query"
    form = {
        "chat_id": str(ANN),
        "text": "by form",
        "reply_markup": '{"inline_keyboard":[[{"text":"A","callback_data":"a"}]]}',
    }
    async with tg.http.post(f"{base}/sendMessage", data=form) as response:
        assert (await response.json())["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "A"
    multipart = aiohttp.FormData()
    multipart.add_field("chat_id", str(ANN))
    multipart.add_field("photo", PNG, filename="p.png", content_type="image/png")
    async with tg.http.post(f"{base}/sendPhoto", data=multipart) as response:
        [size] = (await response.json())["result"]["photo"]
    assert (size["width"], size["height"], size["file_size"]) == (40, 30, len(PNG))


async def test_a_photo_that_is_not_an_image_is_refused(tg: Telegram, ann: int) -> None:
    multipart = aiohttp.FormData()
    multipart.add_field("chat_id", str(ANN))
    multipart.add_field("photo", b"%PDF-1.4", filename="p.png")
    async with tg.http.post(f"{tg.url}/bot{TOKEN}/sendPhoto", data=multipart) as response:
        assert (response.status, (await response.json())["description"]) == (
            400,
            "Bad Request: IMAGE_PROCESS_FAILED",
        )


async def test_files_are_served_back_by_get_file_and_the_file_url(tg: Telegram, ann: int) -> None:
    multipart = aiohttp.FormData()
    multipart.add_field("chat_id", str(ANN))
    multipart.add_field("document", b"a;b\n", filename="deals.csv")
    async with tg.http.post(f"{tg.url}/bot{TOKEN}/sendDocument", data=multipart) as response:
        document = (await response.json())["result"]["document"]
    file = await tg.ok("getFile", file_id=document["file_id"])
    assert file["file_path"].startswith("documents/")
    assert file["file_size"] == 4
    async with tg.http.get(f"{tg.url}/file/bot{TOKEN}/{file['file_path']}") as response:
        assert (response.status, await response.read()) == (200, b"a;b\n")
    async with tg.http.get(f"{tg.url}/file/bot{TOKEN}/documents/nothing.txt") as response:
        assert response.status == 404
    assert await tg.error("getFile", file_id="nope") == (400, "Bad Request: invalid file_id")
    assert await tg.error("sendDocument", chat_id=ANN, document="nope") == (
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )


async def test_files_of_one_bot_are_not_another_bots(tg: Telegram, ann: int) -> None:
    multipart = aiohttp.FormData()
    multipart.add_field("chat_id", str(ANN))
    multipart.add_field("document", b"secret", filename="s.txt")
    async with tg.http.post(f"{tg.url}/bot{TOKEN}/sendDocument", data=multipart) as response:
        file_id = (await response.json())["result"]["document"]["file_id"]
    assert await tg.error("getFile", token="555:other", file_id=file_id) == (
        400,
        "Bad Request: invalid file_id",
    )


async def test_get_updates_hands_out_updates_until_a_later_offset_confirms_them(
    tg: Telegram, ann: int
) -> None:
    first = await tg.send(ANN, "one")
    second = await tg.send(ANN, "two")
    fetched = await tg.ok("getUpdates")
    assert [u["update_id"] for u in fetched] == [first["update_id"], second["update_id"]]
    assert await tg.ok("getUpdates") == fetched  # not confirmed yet
    assert [u["update_id"] for u in await tg.ok("getUpdates", offset=second["update_id"])] == [
        second["update_id"]
    ]
    assert await tg.ok("getUpdates", offset=second["update_id"] + 1) == []


async def test_get_updates_honours_limit_and_a_negative_offset(tg: Telegram, ann: int) -> None:
    sent = [await tg.send(ANN, f"#{n}") for n in range(4)]
    assert len(await tg.ok("getUpdates", limit=2)) == 2
    [last] = await tg.ok("getUpdates", offset=-1)
    assert last["update_id"] == sent[-1]["update_id"]


async def test_a_long_poll_returns_as_soon_as_an_update_arrives(tg: Telegram, ann: int) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(tg.ok("getUpdates", timeout=10))
    await asyncio.sleep(0.1)
    await tg.send(ANN, "now")
    [update] = await poll
    assert update["message"]["text"] == "now"
    assert time.monotonic() - started < 2


async def test_a_long_poll_with_nothing_to_say_returns_an_empty_list_after_its_timeout(
    tg: Telegram, ann: int
) -> None:
    started = time.monotonic()
    assert await tg.ok("getUpdates", timeout=1) == []
    assert 0.9 < time.monotonic() - started < 2


async def test_a_second_get_updates_terminates_the_first_with_409(tg: Telegram, ann: int) -> None:
    first = asyncio.create_task(tg.api("getUpdates", timeout=10))
    await asyncio.sleep(0.1)
    assert await tg.ok("getUpdates") == []
    assert await first == (
        409,
        {
            "ok": False,
            "error_code": 409,
            "description": "Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running",
        },
    )


async def test_allowed_updates_leave_out_the_kinds_a_bot_did_not_ask_for(tg: Telegram, ann: int) -> None:
    await tg.ok("getUpdates", allowed_updates=["callback_query"])
    card = await tg.ok(
        "sendMessage",
        chat_id=ANN,
        text="Card",
        reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
    )
    await tg.send(ANN, "ignored")
    await tg.click(ANN, card["message_id"], "A")
    assert [next(k for k in u if k != "update_id") for u in await tg.ok("getUpdates")] == ["callback_query"]


async def test_log_out_and_close_are_accepted(tg: Telegram) -> None:
    assert await tg.ok("logOut") is True
    assert await tg.ok("close") is True


async def test_bot_descriptions_round_trip(tg: Telegram) -> None:
    await tg.ok("setMyDescription", description="Kanbot CRM", language_code="en")
    assert await tg.ok("getMyDescription", language_code="en") == {"description": "Kanbot CRM"}
    assert await tg.ok("getMyName") == {"name": "Emulator bot 123456"}


async def _send_audio(tg: Telegram, data: bytes, name: str, **fields: str) -> dict[str, Any]:
    multipart = aiohttp.FormData()
    multipart.add_field("chat_id", str(ANN))
    for key, value in fields.items():
        multipart.add_field(key, value)
    multipart.add_field("audio", data, filename=name)
    async with tg.http.post(f"{tg.url}/bot{TOKEN}/sendAudio", data=multipart) as response:
        result: dict[str, Any] = (await response.json())["result"]
        return result


async def test_send_audio_plays_an_mp3_and_delivers_any_other_file_as_a_document(
    tg: Telegram, ann: int
) -> None:
    mp3 = await _send_audio(tg, b"ID3\x04" + bytes(64), "call.mp3", duration="42", title="ACME", caption="🎧")
    assert mp3["audio"]["duration"] == 42 and mp3["audio"]["title"] == "ACME" and mp3["caption"] == "🎧"
    assert mp3["audio"]["file_name"] == "call.mp3" and mp3["audio"]["mime_type"] == "audio/mpeg"
    file = await tg.ok("getFile", file_id=mp3["audio"]["file_id"])
    assert file["file_path"].startswith("music/")
    wav = await _send_audio(tg, b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(32), "call.wav")
    assert "audio" not in wav and wav["document"]["file_name"] == "call.wav"
    assert await tg.error("sendAudio", chat_id=ANN) == (400, "Bad Request: there is no audio in the request")
    assert await tg.error("sendAudio", chat_id=ANN, audio=mp3["audio"]["file_id"], duration="-1") == (
        400,
        "Bad Request: duration must be non-negative",
    )
