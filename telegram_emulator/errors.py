"""The errors a Bot API call can end with, in Telegram's words."""

from __future__ import annotations

from typing import Any

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
DELETE_NOT_FOUND = "Bad Request: message to delete not found"
CANT_BE_EDITED = "Bad Request: message can't be edited"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
TEXT_EMPTY = "Bad Request: message text is empty"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
BUTTON_URL_INVALID = "Bad Request: BUTTON_URL_INVALID"
BUTTON_TYPE_INVALID = "Bad Request: BUTTON_TYPE_INVALID"
MARKUP_TOO_LONG = "Bad Request: reply markup is too long"
ANSWER_TOO_LONG = "Bad Request: MESSAGE_TOO_LONG"
BLOCKED = "Forbidden: bot was blocked by the user"
CHAT_NOT_FOUND = "Bad Request: chat not found"
CHAT_ID_EMPTY = "Bad Request: chat_id is empty"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
OTHER_GET_UPDATES = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
NOT_FOUND = "Not Found"


class ApiError(Exception):
    """A Bot API failure: becomes `{"ok": false, "error_code", "description", "parameters"?}`."""

    def __init__(self, description: str, status: int = 400, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.retry_after = retry_after

    def as_telegram(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(f"Bad Request: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(f"Too Many Requests: retry after {retry_after}", 429, retry_after=retry_after)


def cant_parse_entities(detail: str) -> ApiError:
    return ApiError(f"Bad Request: can't parse entities: {detail}")
