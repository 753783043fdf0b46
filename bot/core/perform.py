"""Carrying out a reply, whatever framework talks to Telegram: one order, one set of fallbacks.

A runtime supplies a ``Messenger`` (six Bot API calls, its errors mapped to ``TransportError``); this
module decides what happens: the button press is answered first (its spinner stops at once), messages
follow in order, an edit of a message that is gone becomes a new message, "not modified" is no error,
and a user who blocked the bot ends the reply quietly. A member's reply waits out every 429 Telegram
gives (within ``MEMBER_PATIENCE_S``); a stranger's goes after the members' and is dropped on a 429
(``bot.core.pace``).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from typing import TYPE_CHECKING, Protocol

from bot.core.events import ButtonPress, Event
from bot.core.i18n import Tr
from bot.core.pace import Lanes, lanes
from bot.core.views import Action, Answer, Edit, Reply, Send, SendAudio, SendPhoto, SetCommands, Typing, View

if TYPE_CHECKING:
    from bot.core.chat import ChatCore

log = logging.getLogger(__name__)
MEMBER_PATIENCE_S = 60.0  # what a member's reply waits out in 429s, all told, before it is given up
PRESS_PATIENCE_S = 5.0


class Failure(enum.StrEnum):
    RETRY_AFTER = "retry_after"  # 429: wait as told
    UNAVAILABLE = "unavailable"  # 5xx, timeouts, network: retry with backoff
    BLOCKED = "blocked"  # 403: the user blocked the bot
    REFUSED = "refused"  # 400: Telegram will never take this request


class TransportError(Exception):
    def __init__(self, failure: Failure, description: str = "", retry_after: float | None = None) -> None:
        super().__init__(description or failure.value)
        self.failure, self.description, self.retry_after = failure, description, retry_after


class Messenger(Protocol):
    """What a runtime does on Telegram's side; every method raises ``TransportError`` on failure."""

    async def send_view(self, chat_id: int, view: View) -> int: ...

    async def edit_view(self, chat_id: int, message_id: int, view: View) -> None: ...

    async def send_photo(self, chat_id: int, photo: SendPhoto) -> int: ...

    async def send_audio(self, chat_id: int, audio: SendAudio) -> int: ...

    async def answer(self, query_id: str, text: str | None, alert: bool) -> None: ...

    async def typing(self, chat_id: int) -> None: ...

    async def set_commands(self, chat_id: int, commands: tuple[tuple[str, str], ...]) -> None: ...

    async def set_menu_button(self, chat_id: int, text: str, url: str) -> None: ...


async def press(chat: ChatCore, messenger: Messenger, event: ButtonPress) -> None:
    """Hand a button press to the core and carry out its reply. The press is always answered: with
    the reply, or with a "one moment" when the reply takes longer than ``PRESS_PATIENCE_S`` (the
    database away or slow): Telegram takes no answer to a press older than about 15 seconds."""
    handling = asyncio.ensure_future(chat.handle(event))
    answered = False
    try:
        waited = await asyncio.wait({handling}, timeout=PRESS_PATIENCE_S)
    except asyncio.CancelledError:
        handling.cancel()
        raise
    if not waited[0]:
        answered = True
        tr = Tr(event.sender.language_code or "en")
        try:
            await messenger.answer(event.query_id, "⏳ " + tr("Working on it — one moment, please."), False)
        except TransportError as error:
            log.info("update %s: answering the button failed: %s", event.update_id, error)
    try:
        reply = await handling
    except Exception:
        log.exception("update %s: button press failed", event.update_id)
        tr = Tr(event.sender.language_code or "en")
        reply = Reply().answer(
            "⚠️ " + tr("Sorry, something went wrong on our side. Please try again."), alert=True
        )
    await perform(messenger, event, reply, answered=answered)


async def perform(messenger: Messenger, event: Event, reply: Reply, *, answered: bool = False) -> None:
    """Carry out the core's reply to ``event``; ``answered``: the press was answered already, so what
    the answer would have said (a refusal, "try again", "Saved.") comes as a message instead, unless
    the reply shows something else anyway."""
    if reply.duplicate:
        return
    if isinstance(event, ButtonPress):
        answer = next((a for a in reply.actions if isinstance(a, Answer)), Answer())
        shown = any(isinstance(a, Send | Edit | SendPhoto | SendAudio) for a in reply.actions)
        if answered and answer.text and (answer.alert or not shown):  # else the user would never see it
            reply.actions.append(Send(View.of([answer.text])))
        elif not answered:
            try:
                await messenger.answer(
                    event.query_id, answer.plain[:200] if answer.plain else None, answer.alert
                )
            except TransportError as error:
                log.info("update %s: answering the button failed: %s", event.update_id, error)
    lane = lanes()
    if reply.stranger:
        await _to_stranger(messenger, event, reply, lane)
        return
    deadline = asyncio.get_running_loop().time() + MEMBER_PATIENCE_S
    with lane.member():
        for action in reply.actions:
            if isinstance(action, Answer):
                continue
            try:
                await _until_through(messenger, event, action, lane, deadline)
            except TransportError as error:
                if error.failure is Failure.BLOCKED:
                    log.info("user %s blocked the bot", event.sender.id)
                    return
                log.error("update %s: Telegram refused %s: %s", event.update_id, type(action).__name__, error)


async def _until_through(
    messenger: Messenger, event: Event, action: Action, lane: Lanes, deadline: float
) -> None:
    """One action of a member's reply, its 429s waited out as Telegram says, until ``deadline``."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            await _one(messenger, event, action)
            return
        except TransportError as error:
            if error.failure is not Failure.RETRY_AFTER:
                raise
            wait_s = error.retry_after or 1.0
            lane.told_to_wait(wait_s)
            if loop.time() + wait_s > deadline:
                raise
            log.info("update %s: Telegram asked to wait %.0f s; waiting", event.update_id, wait_s)
            await asyncio.sleep(wait_s)


async def _to_stranger(messenger: Messenger, event: Event, reply: Reply, lane: Lanes) -> None:
    """A reply to someone outside the team: after the members' replies, and not at all on a 429."""
    if not any(not isinstance(a, Answer) for a in reply.actions):
        return
    if not await lane.strangers_turn():
        log.info("update %s: the reply to a stranger dropped (members' replies first)", event.update_id)
        return
    for action in reply.actions:
        if isinstance(action, Answer):
            continue
        try:
            await _one(messenger, event, action)
        except TransportError as error:
            if error.failure is Failure.RETRY_AFTER:
                lane.told_to_wait(error.retry_after or 1.0)
            log.info("update %s: the reply to a stranger dropped: %s", event.update_id, error)
            return


class Editor(Protocol):
    async def send_view(self, chat_id: int, view: View) -> int: ...

    async def edit_view(self, chat_id: int, message_id: int, view: View) -> None: ...


GONE = ("not found", "can't be edited", "no text in the message")


async def edit_or_send(messenger: Editor, chat_id: int, message_id: int, view: View) -> int:
    """Show ``view`` in the message ``message_id``; one that is gone or cannot be edited (a photo's, a
    deleted one) gets ``view`` as a new message instead. "Not modified" is no error. Returns the id of
    the message that shows the view."""
    try:
        await messenger.edit_view(chat_id, message_id, view)
    except TransportError as error:
        text = error.description.lower()
        if "not modified" in text:
            return message_id
        if error.failure is Failure.REFUSED and any(reason in text for reason in GONE):
            return await messenger.send_view(chat_id, view)
        raise
    return message_id


async def _one(messenger: Messenger, event: Event, action: Action) -> None:
    chat_id = event.chat_id
    if isinstance(action, Send):
        await messenger.send_view(action.chat_id or chat_id, action.view)
    elif isinstance(action, Edit):
        if isinstance(event, ButtonPress) and event.on_media and action.message_id == event.message_id:
            await messenger.send_view(chat_id, action.view)  # a chart's caption is no place for a card
            return
        await edit_or_send(messenger, chat_id, action.message_id, action.view)
    elif isinstance(action, SendPhoto):
        await messenger.send_photo(action.chat_id or chat_id, action)
    elif isinstance(action, SendAudio):
        await messenger.send_audio(action.chat_id or chat_id, action)
    elif isinstance(action, Typing):
        await messenger.typing(chat_id)
    elif isinstance(action, SetCommands):
        await messenger.set_commands(chat_id, action.commands)
        if action.menu_button is not None:
            await messenger.set_menu_button(chat_id, *action.menu_button)
