"""What the emulated Telegram stores: accounts, chats, messages, files, callback queries, updates.

Every object knows how to show itself as the Bot API's JSON (`as_telegram`), so both aiogram and
python-telegram-bot deserialize what the emulator returns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]
Sender = Literal["bot", "user"]


def now_ts() -> int:
    """Telegram dates are whole Unix seconds."""
    return int(time.time())


@dataclass
class UserAccount:
    """A person who talks to bots; shared by every bot in the emulator."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = None

    def as_telegram(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


@dataclass
class BotAccount:
    """A bot; its id is the digits before the colon of its token."""

    id: int
    username: str
    first_name: str
    token: str | None = None
    can_join_groups: bool = True
    can_read_all_group_messages: bool = False

    def as_user(self) -> JSON:
        return {"id": self.id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    def as_telegram(self) -> JSON:
        """The shape getMe returns."""
        return {
            **self.as_user(),
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": False,
        }


@dataclass
class Group:
    """A group chat created through the control API; its id is negative."""

    id: int
    title: str
    type: Literal["group", "supergroup"] = "group"

    def as_telegram(self) -> JSON:
        return {"id": self.id, "type": self.type, "title": self.title}


@dataclass
class StoredFile:
    """A photo, document or audio file a bot uploaded; served back by getFile and the file URL."""

    file_id: str
    file_unique_id: str
    owner_bot_id: int
    kind: Literal["photo", "document", "audio"]
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    duration: int = 0  # audio: seconds, as the sender said (Telegram reads it from the file otherwise)
    title: str | None = None

    def as_photo_sizes(self) -> list[JSON]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": self.width,
                "height": self.height,
                "file_size": len(self.data),
            }
        ]

    def as_document(self) -> JSON:
        data: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name:
            data["file_name"] = self.file_name
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data

    def as_audio(self) -> JSON:
        data = self.as_document()
        data["duration"] = self.duration
        if self.title:
            data["title"] = self.title
        return data

    def as_file(self) -> JSON:
        """The shape getFile returns."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class StoredMessage:
    """One message in a chat, from the bot or from a user, as Telegram keeps it."""

    message_id: int
    chat: JSON
    sender: Sender
    from_user: JSON
    date: int
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None
    photo: StoredFile | None = None
    document: StoredFile | None = None
    audio: StoredFile | None = None
    contact: JSON | None = None
    reply_to: StoredMessage | None = None
    edit_date: int | None = None
    deleted: bool = False

    @property
    def chat_id(self) -> int:
        return int(self.chat["id"])

    @property
    def inline_keyboard(self) -> list[list[JSON]]:
        markup = self.reply_markup or {}
        rows: list[list[JSON]] = markup.get("inline_keyboard", [])
        return rows

    def as_telegram(self, *, with_reply: bool = True) -> JSON:
        data: JSON = {
            "message_id": self.message_id,
            "from": self.from_user,
            "chat": self.chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.photo is not None:
            data["photo"] = self.photo.as_photo_sizes()
        if self.document is not None:
            data["document"] = self.document.as_document()
        if self.audio is not None:
            data["audio"] = self.audio.as_audio()
        if self.caption is not None:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = self.caption_entities
        if self.contact is not None:
            data["contact"] = self.contact
        if self.reply_to is not None and with_reply:
            data["reply_to_message"] = self.reply_to.as_telegram(with_reply=False)
        # Telegram echoes only inline keyboards in Message objects; reply keyboards live on the client.
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            data["reply_markup"] = self.reply_markup
        return data


@dataclass
class CallbackQuery:
    """A button press waiting for answerCallbackQuery."""

    id: str
    user: UserAccount
    message: StoredMessage
    data: str
    created_at: float
    answer: JSON | None = None
    answered: bool = False

    def as_telegram(self) -> JSON:
        return {
            "id": self.id,
            "from": self.user.as_telegram(),
            "message": self.message.as_telegram(),
            "chat_instance": str(abs(self.message.chat_id) * 7919),
            "data": self.data,
        }


@dataclass
class Update:
    """An update queued for a bot until getUpdates confirms it or its webhook answers 2xx."""

    update_id: int
    kind: str
    payload: JSON

    def as_telegram(self) -> JSON:
        return {"update_id": self.update_id, self.kind: self.payload}


@dataclass
class Webhook:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
