"""Control API for people and places: users, blocking the bot, group chats, chat views and files."""

from __future__ import annotations

import itertools

from aiohttp import web

from telegram_emulator.control_base import (
    ControlError,
    base_url,
    bot_of,
    int_field,
    int_path,
    json_body,
    str_field,
    world_of,
)
from telegram_emulator.methods_media import file_response
from telegram_emulator.models import Group, UserAccount, now_ts
from telegram_emulator.state import BotState, World
from telegram_emulator.views import chat_view, message_view

routes = web.RouteTableDef()
_group_numbers = itertools.count(1)


@routes.post("/emulator/users")
async def create_user(request: web.Request) -> web.Response:
    """Create a user, or update the fields of an existing one (their private chat id is their id)."""
    body = await json_body(request)
    user_id = int_field(body, "id")
    assert user_id is not None
    if user_id <= 0:
        raise ControlError(400, '"id" must be a positive integer (negative ids are groups)')
    world = world_of(request)
    user = world.users.get(user_id) or UserAccount(user_id, f"User {user_id}")
    for name in ("first_name", "last_name", "username", "language_code"):
        if (value := str_field(body, name)) is not None:
            setattr(user, name, value.lstrip("@") if name == "username" else value)
    world.users[user_id] = user
    world.refresh_user(user)
    return web.json_response(user.as_telegram())


@routes.get("/emulator/users")
async def list_users(request: web.Request) -> web.Response:
    return web.json_response([user.as_telegram() for user in world_of(request).users.values()])


def user_of(world: World, user_id: int | None) -> UserAccount:
    user = world.users.get(user_id or 0)
    if user is None:
        raise ControlError(404, f"no user {user_id}; create them first with POST /emulator/users")
    return user


async def _set_blocked(request: web.Request, blocked: bool) -> web.Response:
    body = await json_body(request)
    world, bot = world_of(request), await bot_of(request, body)
    user = user_of(world, int_path(request, "user_id"))
    chat = world.chat(bot, user.id)
    assert chat is not None
    if (user.id in bot.blocked_by) != blocked:
        bot.blocked_by.symmetric_difference_update({user.id})
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        world.enqueue(bot, "my_chat_member", _member_change(bot, chat.info, user, old, new))
    return web.json_response({"user_id": user.id, "bot_id": bot.id, "blocked": blocked})


def _member_change(
    bot: BotState, chat: dict[str, object], user: UserAccount, old: str, new: str
) -> dict[str, object]:
    """The my_chat_member update Telegram sends when a user blocks or unblocks a bot."""

    def member(status: str) -> dict[str, object]:
        return {"user": bot.account.as_user(), "status": status} | (
            {"until_date": 0} if status == "kicked" else {}
        )

    return {
        "chat": chat,
        "from": user.as_telegram(),
        "date": now_ts(),
        "old_chat_member": member(old),
        "new_chat_member": member(new),
    }


@routes.post("/emulator/users/{user_id}/block")
async def block(request: web.Request) -> web.Response:
    """The user blocks the bot: sends to them get 403, and the bot gets a my_chat_member update."""
    return await _set_blocked(request, True)


@routes.post("/emulator/users/{user_id}/unblock")
async def unblock(request: web.Request) -> web.Response:
    return await _set_blocked(request, False)


@routes.post("/emulator/chats")
async def create_group(request: web.Request) -> web.Response:
    """Create a group chat (negative id) the bots are members of."""
    body = await json_body(request)
    kind = str_field(body, "type") or "group"
    if kind not in ("group", "supergroup"):
        raise ControlError(400, '"type" must be "group" or "supergroup"')
    number = next(_group_numbers)
    default_id = -1000 - number if kind == "group" else -1001000000000 - number
    chat_id = int_field(body, "id", required=False) or default_id
    if chat_id >= 0:
        raise ControlError(400, '"id" of a group must be negative')
    group = Group(
        chat_id, str_field(body, "title") or f"Group {-chat_id}", "group" if kind == "group" else "supergroup"
    )
    world_of(request).groups[chat_id] = group
    return web.json_response(group.as_telegram())


@routes.get("/emulator/chats")
async def list_chats(request: web.Request) -> web.Response:
    world, bot = world_of(request), await bot_of(request)
    ids = list(bot.chats) + [g for g in world.groups if g not in bot.chats]
    chats = [world.chat(bot, chat_id) for chat_id in ids]
    return web.json_response([chat_view(bot, chat) for chat in chats if chat is not None])


async def _chat(request: web.Request) -> tuple[BotState, int]:
    bot = await bot_of(request)
    chat_id = int_path(request, "chat_id")
    if world_of(request).chat(bot, chat_id) is None:
        raise ControlError(404, f"no chat {chat_id}: create the user or the group first")
    return bot, chat_id


@routes.get("/emulator/chats/{chat_id}")
async def get_chat(request: web.Request) -> web.Response:
    """The chat's header and the reply keyboard the user has under the input."""
    bot, chat_id = await _chat(request)
    return web.json_response(chat_view(bot, bot.chats[chat_id]))


@routes.get("/emulator/chats/{chat_id}/messages")
async def get_messages(request: web.Request) -> web.Response:
    """The chat as the user sees it, oldest first; deleted messages stay, marked `deleted`."""
    bot, chat_id = await _chat(request)
    base = base_url(request)
    return web.json_response([message_view(m, base) for m in bot.chats[chat_id].messages.values()])


@routes.get("/emulator/callback_answers/{query_id}")
async def callback_answer(request: web.Request) -> web.Response:
    """What answerCallbackQuery said to a button press; 404 until the bot answers."""
    query_id = request.match_info["query_id"]
    for bot in world_of(request).bots.values():
        query = bot.callback_queries.get(query_id)
        if query is not None and query.answer is not None:
            return web.json_response(query.answer)
        if query is not None:
            raise ControlError(404, f"callback query {query_id} is not answered yet")
    raise ControlError(404, f"no callback query {query_id}")


@routes.get("/emulator/files/{file_id}")
async def get_file(request: web.Request) -> web.Response:
    """A photo or document a bot sent, for the page and for tests."""
    stored = world_of(request).files.get(request.match_info["file_id"])
    if stored is None:
        raise ControlError(404, "no such file")
    return file_response(stored, download_name=stored.file_name)
