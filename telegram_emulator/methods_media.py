"""sendPhoto, sendDocument, sendAudio, getFile, and the file download URL."""

from __future__ import annotations

import mimetypes
import struct
from urllib.parse import quote

from aiohttp import web

from telegram_emulator import errors
from telegram_emulator.call import Call, Handler
from telegram_emulator.errors import ApiError, bad_request
from telegram_emulator.keyboards import validate_markup
from telegram_emulator.keys import WORLD_KEY
from telegram_emulator.methods_messages import bot_message
from telegram_emulator.models import JSON, StoredFile
from telegram_emulator.state import TOKEN, World

MAX_PHOTO_BYTES, MAX_DOCUMENT_BYTES = 10 * 1024 * 1024, 50 * 1024 * 1024


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF, JPEG or WebP image, read from its header."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP" and len(data) >= 30:
        if data[12:16] == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        if data[12:16] == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return int(width) & 0x3FFF, int(height) & 0x3FFF
        return None
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 9 < len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return int(width), int(height)
        position += 2 + length
    return None


def image_mime(data: bytes) -> str:
    for magic, mime in ((b"\x89PNG", "image/png"), (b"GIF8", "image/gif"), (b"RIFF", "image/webp")):
        if data.startswith(magic):
            return mime
    return "image/jpeg"


def _input_file(call: Call, name: str, kind: str) -> StoredFile:
    """The file a send method carries: a new upload, or a file_id this bot has seen."""
    upload = call.params.upload(name)
    if upload is not None:
        return _store_upload(call, kind, upload.data, upload.filename, upload.content_type)
    reference = call.params.get_str(name)
    if reference is None:
        raise bad_request(f"there is no {kind} in the request")
    if reference.startswith(("http://", "https://")):
        raise bad_request("failed to get HTTP URL content")  # the emulator never fetches URLs
    stored = call.world.files.get(reference)
    if stored is None or stored.owner_bot_id != call.bot.id:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise bad_request(f"can't use file of type {stored.kind.title()} as {kind.title()}")
    return stored


def _store_upload(call: Call, kind: str, data: bytes, name: str | None, mime: str | None) -> StoredFile:
    if kind == "photo":
        size = image_size(data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        if len(data) > MAX_PHOTO_BYTES:
            raise bad_request("file is too big")
        stored = call.world.add_file(call.bot, kind=kind, data=data, file_name=None, mime=image_mime(data))
        stored.width, stored.height = size
        return stored
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ApiError("Request Entity Too Large", 413)
    if not mime or mime == "application/octet-stream":
        mime = mimetypes.guess_type(name or "")[0] or "application/octet-stream"
    return call.world.add_file(call.bot, kind=kind, data=data, file_name=name or "document", mime=mime)


async def _send_media(call: Call, kind: str) -> JSON:
    chat = call.target()
    caption, caption_entities = call.caption()
    markup = validate_markup(call.params.raw("reply_markup"), chat_type=chat.type)
    reply_to = call.reply_to(chat)
    stored = _input_file(call, kind, kind)
    call.rate_limit(chat)
    media = {kind: stored}
    fields = {"caption": caption, "caption_entities": caption_entities, "reply_markup": markup}
    return bot_message(call, chat, reply_to=reply_to, **media, **fields).as_telegram()


def is_music(data: bytes) -> bool:
    """An MP3 (an ID3 tag or an MPEG audio frame) or an M4A file: what Telegram plays as audio."""
    mpeg_frame = len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0
    return data.startswith(b"ID3") or mpeg_frame or data[4:8] == b"ftyp"


async def send_audio(call: Call) -> JSON:
    """sendAudio: an MP3 or M4A file shows in the music player; any other file arrives as a document,
    as Telegram does with it."""
    chat = call.target()
    caption, caption_entities = call.caption()
    markup = validate_markup(call.params.raw("reply_markup"), chat_type=chat.type)
    reply_to = call.reply_to(chat)
    duration = call.params.get_int("duration")
    if duration is not None and duration < 0:
        raise bad_request("duration must be non-negative")
    title = call.params.get_str("title")
    upload = call.params.upload("audio")
    if upload is not None:
        kind = "audio" if is_music(upload.data) else "document"
        stored = _store_upload(call, kind, upload.data, upload.filename, upload.content_type)
        if kind == "audio":
            stored.duration, stored.title = duration or 0, title
    else:
        stored = _input_file(call, "audio", "audio")
    call.rate_limit(chat)
    fields = {"caption": caption, "caption_entities": caption_entities, "reply_markup": markup}
    media = {"audio": stored} if stored.kind == "audio" else {"document": stored}
    return bot_message(call, chat, reply_to=reply_to, **media, **fields).as_telegram()


async def send_photo(call: Call) -> JSON:
    return await _send_media(call, "photo")


async def send_document(call: Call) -> JSON:
    return await _send_media(call, "document")


async def get_file(call: Call) -> JSON:
    file_id = call.params.get_str("file_id", required="file_id not specified")
    stored = call.world.files.get(file_id or "")
    if stored is None or stored.owner_bot_id != call.bot.id:
        raise bad_request("invalid file_id")
    return stored.as_file()


def file_response(stored: StoredFile, *, download_name: str | None = None) -> web.Response:
    headers = {}
    if download_name:
        headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(download_name)}"
    content_type = stored.mime_type or "application/octet-stream"
    return web.Response(body=stored.data, content_type=content_type, headers=headers)


async def download(request: web.Request) -> web.StreamResponse:
    """GET /file/bot<token>/<file_path>: the bytes behind getFile's file_path."""
    world: World = request.app[WORLD_KEY]
    match = TOKEN.match(request.match_info["token"])
    stored = world.file_by_path(int(match[1]), request.match_info["path"]) if match else None
    if stored is None:
        return web.json_response(ApiError(errors.NOT_FOUND, 404).as_telegram(), status=404)
    return file_response(stored)


METHODS: dict[str, Handler] = {
    "sendphoto": send_photo,
    "senddocument": send_document,
    "sendaudio": send_audio,
    "getfile": get_file,
}
