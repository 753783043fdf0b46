"""The emulated Telegram's memory: bots, users, groups, chats, queued updates, files and the request log.

Everything runs on one event loop, so state changes between awaits are atomic and need no locks.
Each bot has its own chats (a user's private chat with bot A is not their chat with bot B), as on
Telegram; users and groups are shared.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram_emulator.limits import Faults, Limits, RateLimiter
from telegram_emulator.models import (
    JSON,
    BotAccount,
    CallbackQuery,
    Group,
    Sender,
    StoredFile,
    StoredMessage,
    Update,
    UserAccount,
    Webhook,
    now_ts,
)

TOKEN = re.compile(r"^(\d{1,19}):[A-Za-z0-9_\-]+$")
LOG_SIZE = 5000


@dataclass
class ChatState:
    """One chat as a bot sees it: its messages in order and the reply keyboard the user has."""

    info: JSON
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    reply_keyboard: JSON | None = None
    action: tuple[str, float] | None = None  # the last sendChatAction and when

    @property
    def id(self) -> int:
        return int(self.info["id"])

    @property
    def type(self) -> str:
        return str(self.info["type"])

    def add(self, *, sender: Sender, from_user: JSON, **fields: Any) -> StoredMessage:
        message = StoredMessage(
            message_id=self.next_message_id,
            chat=self.info,
            sender=sender,
            from_user=from_user,
            date=now_ts(),
            **fields,
        )
        self.messages[message.message_id] = message
        self.next_message_id += 1
        return message

    def get(self, message_id: int | None) -> StoredMessage | None:
        message = self.messages.get(message_id) if message_id is not None else None
        return None if message is None or message.deleted else message


@dataclass
class BotState:
    account: BotAccount
    chats: dict[int, ChatState] = field(default_factory=dict)
    pending: list[Update] = field(default_factory=list)
    callback_queries: dict[str, CallbackQuery] = field(default_factory=dict)
    blocked_by: set[int] = field(default_factory=set)
    webhook: Webhook | None = None
    allowed_updates: list[str] | None = None
    commands: dict[tuple[str, str], list[JSON]] = field(default_factory=dict)
    menu_buttons: dict[int | None, JSON] = field(default_factory=dict)
    texts: dict[tuple[str, str], str] = field(default_factory=dict)  # name, descriptions per language
    poll_generation: int = 0
    in_flight: int = 0
    last_activity_at: float = field(default_factory=time.monotonic)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    sent_updates: dict[int, Update] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.account.id

    def notify(self) -> None:
        """Wake every long poll waiting on this bot."""
        self.wakeup.set()
        self.wakeup = asyncio.Event()

    def touch(self) -> None:
        self.last_activity_at = time.monotonic()

    def confirm(self, offset: int) -> bool:
        """Forget the updates getUpdates' offset confirms; True when it confirmed any."""
        before = len(self.pending)
        if offset < 0:
            self.pending = self.pending[offset:]
        else:
            self.pending = [u for u in self.pending if u.update_id >= offset]
        return len(self.pending) != before

    def open_callback_queries(self, timeout_s: float) -> list[CallbackQuery]:
        now = time.monotonic()
        return [
            q for q in self.callback_queries.values() if not q.answered and now - q.created_at < timeout_s
        ]

    def busy_reason(self, quiet_s: float, callback_timeout_s: float) -> str | None:
        """Why the bot is not quiet yet, or None when it is."""
        if self.pending:
            ids = ", ".join(str(u.update_id) for u in self.pending[:5])
            return f"updates not yet confirmed by getUpdates or the webhook: {ids}"
        if queries := self.open_callback_queries(callback_timeout_s):
            return f"callback queries not answered: {', '.join(q.id for q in queries[:5])}"
        if self.in_flight:
            return f"{self.in_flight} Bot API request(s) still running"
        if time.monotonic() - self.last_activity_at < quiet_s:
            return "the bot made a request less than quiet_ms ago"
        return None


class NoBot(LookupError):
    """No bot matches a control call."""


class World:
    """All the emulator's state; `reset` forgets all of it except the update id sequence."""

    def __init__(self, *, rate_limits: bool = True) -> None:
        self.rate_limits_default = rate_limits
        # Update ids keep growing across resets so a running bot's offset never swallows new updates.
        self.update_ids = itertools.count(1)
        # Called with a bot whenever it gets an update or a webhook: the webhook delivery listens.
        self.update_listeners: list[Callable[[BotState], None]] = []
        self.closing = False
        self.reset()

    def reset(self) -> None:
        for bot in getattr(self, "bots", {}).values():
            bot.notify()  # waiting polls see their bot is gone and return at once
        self.limits = Limits(enforce=self.rate_limits_default)
        self.limiter = RateLimiter(self.limits)
        self.faults = Faults()
        self.users: dict[int, UserAccount] = {}
        self.groups: dict[int, Group] = {}
        self.bots: dict[int, BotState] = {}
        self.files: dict[str, StoredFile] = {}
        self.log: deque[JSON] = deque(maxlen=LOG_SIZE)
        self.last_bot_id: int | None = None
        self.bot_appeared = asyncio.Event()
        self.file_numbers = itertools.count(1)

    # Bots

    def bot_for_token(self, token: str) -> BotState | None:
        """The bot a token names (registered on first use), or None when it is not a bot token."""
        match = TOKEN.match(token)
        if match is None:
            return None
        bot = self.register_bot(int(match[1]))
        if bot.account.token is None:
            bot.account.token = token
        self.last_bot_id = bot.id
        return bot

    def register_bot(
        self,
        bot_id: int,
        *,
        token: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
    ) -> BotState:
        bot = self.bots.get(bot_id)
        if bot is None:
            account = BotAccount(bot_id, f"emulator_{bot_id}_bot", f"Emulator bot {bot_id}", token)
            bot = self.bots[bot_id] = BotState(account)
            self.bot_appeared.set()
        if token:
            bot.account.token = token
        if username:
            bot.account.username = username.lstrip("@")
        if first_name:
            bot.account.first_name = first_name
        return bot

    async def resolve_bot(self, bot_id: int | None, *, wait_s: float = 5.0) -> BotState:
        """The bot a control call means: the given one, else the only one or the last to call the API.

        When no bot has appeared yet, wait up to `wait_s` for the first one, so a test may post a
        message while its bot is still starting.
        """
        if bot_id is not None:
            if bot_id not in self.bots:
                raise NoBot(f"no bot {bot_id}: it has not called the Bot API and was not registered")
            return self.bots[bot_id]
        if not self.bots:
            try:
                await asyncio.wait_for(self.bot_appeared.wait(), wait_s)
            except TimeoutError:
                raise NoBot(
                    "no bot has called the Bot API yet; start it against this emulator first"
                ) from None
        if len(self.bots) == 1:
            return next(iter(self.bots.values()))
        if self.last_bot_id in self.bots:
            return self.bots[self.last_bot_id]
        return next(reversed(self.bots.values()))

    # Chats

    def chat(self, bot: BotState, chat_id: int) -> ChatState | None:
        """The bot's chat with a known user or group, or None (Telegram's "chat not found")."""
        if chat_id in bot.chats:
            return bot.chats[chat_id]
        if chat_id in self.users:
            info = {"type": "private", **self.users[chat_id].as_telegram()}
            for key in ("is_bot", "language_code"):
                info.pop(key, None)
        elif chat_id in self.groups:
            info = self.groups[chat_id].as_telegram()
        else:
            return None
        chat = bot.chats[chat_id] = ChatState(info)
        return chat

    def refresh_user(self, user: UserAccount) -> None:
        """A user's new name shows in every private chat they have."""
        for bot in self.bots.values():
            if (chat := bot.chats.get(user.id)) is not None:
                chat.info.update(
                    {k: v for k, v in user.as_telegram().items() if k in ("first_name", "username")}
                )

    # Updates

    def enqueue(self, bot: BotState, kind: str, payload: JSON) -> Update | None:
        """Queue an update for the bot unless its allowed_updates exclude the kind; None then."""
        update = Update(next(self.update_ids), kind, payload)
        if bot.allowed_updates and kind not in bot.allowed_updates:
            return None
        bot.sent_updates[update.update_id] = update
        if len(bot.sent_updates) > 1000:
            bot.sent_updates.pop(next(iter(bot.sent_updates)))
        bot.pending.append(update)
        bot.notify()
        for listener in self.update_listeners:
            listener(bot)
        return update

    def redeliver(self, bot: BotState, update_id: int) -> Update | None:
        """Queue an update again with its original id, as Telegram does when a delivery was cut short."""
        update = bot.sent_updates.get(update_id)
        if update is None:
            return None
        bot.pending.append(update)
        bot.notify()
        for listener in self.update_listeners:
            listener(bot)
        return update

    # Files

    def add_file(
        self, bot: BotState, *, kind: str, data: bytes, file_name: str | None, mime: str | None
    ) -> StoredFile:
        number = next(self.file_numbers)
        folder, default_ext = {"photo": ("photos", ".jpg"), "audio": ("music", ".mp3")}.get(
            kind, ("documents", "")
        )
        ext = ""
        if file_name and "." in file_name:
            ext = "." + re.sub(r"[^A-Za-z0-9]", "", file_name.rsplit(".", 1)[1])[:8]
        prefix = {"photo": "AgAC", "audio": "CQAC"}.get(kind, "BQAC")
        stored = StoredFile(
            file_id=f"{prefix}{bot.id}_{number}_{secrets.token_urlsafe(12)}",
            file_unique_id=f"AQAD{number}{secrets.token_hex(4)}",
            owner_bot_id=bot.id,
            kind="photo" if kind == "photo" else "audio" if kind == "audio" else "document",
            data=data,
            file_path=f"{folder}/file_{number}{ext or default_ext}",
            file_name=file_name,
            mime_type=mime,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, bot_id: int, path: str) -> StoredFile | None:
        for stored in self.files.values():
            if stored.file_path == path and stored.owner_bot_id == bot_id:
                return stored
        return None

    def record(self, entry: JSON) -> None:
        self.log.append(entry)
