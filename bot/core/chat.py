"""The chat core: one Telegram update in, a reply out — framework-free, over the CRM's services."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable
from datetime import timedelta

from bot.core import actions, codec, features
from bot.core.context import ChatContext, ChatSettings
from bot.core.direction import orient_actions
from bot.core.errors import explain
from bot.core.events import ButtonPress, Command, Event, Other, SharedContact, Text
from bot.core.features import menu
from bot.core.i18n import SUPPORTED, Tr
from bot.core.outage import through_an_outage
from bot.core.pace import StrangerBudget
from bot.core.routing import Router
from bot.core.views import Answer, Reply, View
from crm_core.domain.errors import CrmError, InvalidInput, StaleVersion, Unavailable
from crm_core.domain.users import User
from crm_core.services import Crm
from crm_core.services.conversations import Arrival, Claim
from crm_core.services.unit_of_work import saved_changes

log = logging.getLogger(__name__)

FLOOD_WINDOW = timedelta(seconds=10)
FLOOD_LIMIT = 20
# About fifty seconds of database outage: within the handled-updates ledger's 60 s claim lease, so a
# webhook redelivery meanwhile is still recognised as the same update.
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0, 10.0)
# Telegram's user and chat ids have at most 52 significant bits; a bigger one is forged, and would not
# fit in the database's 64-bit columns either.
TELEGRAM_IDS = 2**52


def _forged_ids(event: Event) -> bool:
    return not (0 < event.sender.id < TELEGRAM_IDS and -TELEGRAM_IDS < event.chat_id < TELEGRAM_IDS)


def _without_nul(event: Event) -> Event:
    """The event with its NUL characters dropped: Telegram carries them, PostgreSQL stores none (a title,
    a search, a name with one failed in the database as "something went wrong")."""
    sender = event.sender
    if "\x00" in sender.first_name + (sender.last_name or ""):
        last_name = _drop_nul(sender.last_name) if sender.last_name else sender.last_name
        names = dataclasses.replace(sender, first_name=_drop_nul(sender.first_name), last_name=last_name)
        event = dataclasses.replace(event, sender=names)
    if isinstance(event, Text) and "\x00" in event.text:
        return dataclasses.replace(event, text=_drop_nul(event.text) or " ")
    if isinstance(event, Command) and "\x00" in event.args:
        return dataclasses.replace(event, args=_drop_nul(event.args))
    if isinstance(event, SharedContact) and "\x00" in event.phone + (event.first_name or ""):
        first_name = _drop_nul(event.first_name) if event.first_name else event.first_name
        return dataclasses.replace(event, phone=_drop_nul(event.phone), first_name=first_name)
    return event


def _drop_nul(text: str) -> str:
    return text.replace("\x00", "")


class _SavedThenUnavailable(Exception):
    """The update saved a change, then the database went away: doing it again could do it twice."""


class ChatCore:
    """Turns events into replies: de-duplicates, throttles, identifies the user, routes, explains errors."""

    def __init__(
        self,
        crm: Crm,
        settings: ChatSettings,
        routers: Iterable[Router] | None = None,
        button_codec: codec.Codec | None = None,
    ) -> None:
        """``routers``: the features (default: all of the chat's); ``button_codec``: what reads their
        buttons back (default: every action the chat knows)."""
        self.crm, self.settings = crm, settings
        self.routers = list(routers if routers is not None else features.routers())
        self.codec = button_codec or actions.codec()
        self.commands = {k: v for r in self.routers for k, v in r.commands.items()}
        self.boss_only = {c for r in self.routers for c in r.boss_only}
        self.buttons = {k: v for r in self.routers for k, v in r.buttons.items()}
        self.within_update = {a for r in self.routers for a in r.within_update}
        unreadable = [a.__name__ for a in self.buttons if self.codec.actions.get(a.code) is not a]
        if unreadable:
            raise ValueError(f"buttons the codec cannot read back: {', '.join(unreadable)}")
        self.flows = {k: v for r in self.routers for k, v in r.flows.items()}
        self.menu_labels = {
            label: command for loc in SUPPORTED for label, command in menu.labels(Tr(loc)).items()
        }
        self.entry = menu
        self.after_update: list[Callable[[], object]] = []
        self._finishing: set[asyncio.Task[None]] = set()  # updates done whose mark waits for the database
        self.observers: list[Callable[[Event, str, float], object]] = []
        self.strangers = StrangerBudget()

    async def handle(self, event: Event) -> Reply:
        """Handle one update exactly once; every button press gets an answer, every error a message.

        While the database is briefly unreachable the update is retried (about fifty seconds), so a
        short outage costs the user a delay, not an action; past that the user is told to try again.
        """
        started = time.perf_counter()
        event = _without_nul(event)
        reply = Reply(outcome="unavailable")
        held: set[str] = set()  # the update's claim when this call took it and could not give it back
        try:
            if _forged_ids(event):
                log.warning("update %s: ignored, a sender or chat id past Telegram's", event.update_id)
                reply = Reply(outcome="refused")
                return reply

            def retrying_in(delay: float) -> None:
                log.warning("update %s: database unavailable; retrying in %.1f s", event.update_id, delay)

            retrying = through_an_outage(RETRY_DELAYS_S, on_retry=retrying_in)
            try:
                reply = await retrying(self._once, event, held)
            except _SavedThenUnavailable:
                reply = await self._saved(event, held)
            except Unavailable:
                reply = self._unavailable(event)
            reader = reply.locale or Tr(event.sender.language_code or "en").locale
            reply.actions = orient_actions(reply.actions, reader)
            return reply
        finally:
            for hook in self.after_update:
                hook()
            for observer in self.observers:
                observer(event, reply.outcome, time.perf_counter() - started)

    async def _once(self, event: Event, held: set[str]) -> Reply:
        key = f"u:{self.settings.bot_id}:{event.update_id}"
        # A claim this call still holds is its own, not a redelivery's: when the database went away
        # mid-update the release failed too, and the retry then took its own claim for a duplicate
        # (the press was never answered, the card never redrawn).
        # Noted as held before the claim, too: a claim whose COMMIT got no answer may have been made,
        # and the retry then takes it up instead of seeing someone else's.
        again = key in held
        held.add(key)
        if self._within_update(event):
            return await self._once_within(event, key, held, again)
        arrival = await self.crm.ledger.arrive(
            key, telegram_id=event.sender.id, window=FLOOD_WINDOW, prefix="u:", held=again
        )
        if arrival.claim is Claim.DUPLICATE:
            held.discard(key)
            log.info("update %s delivered again: ignored", event.update_id)
            return Reply(duplicate=True, outcome="duplicate")
        saved = [0]
        counting = saved_changes.set(saved)
        try:
            reply = await self._handle(event, arrival)
        except Unavailable:
            if saved[0]:  # done again, a note would be written twice, a deal created twice
                raise _SavedThenUnavailable from None
            with contextlib.suppress(Unavailable):
                await self.crm.ledger.release(key)  # so that the retry (or a redelivery) does the work
                held.discard(key)
            raise
        except BaseException:
            await self._finish(key, held)
            raise
        finally:
            saved_changes.reset(counting)
        await self._finish(key, held)
        return reply

    def _within_update(self, event: Event) -> bool:
        """Whether the update is a press of a button whose work goes in the update's unit of work."""
        if not self.within_update or not isinstance(event, ButtonPress):
            return False
        try:
            return type(self.codec.decode(event.data)) in self.within_update
        except codec.BadPayload:
            return False

    async def _once_within(self, event: Event, key: str, held: set[str], again: bool) -> Reply:
        """``_once`` as one transaction: the claim, the pace, the sender, the work, the card's reads
        and the done mark are committed together (``Ledger.taking``); a change refused within goes
        back to its savepoint and the answer is recorded with the claim, as it is in ``_once``."""
        saved = [0]
        counting = saved_changes.set(saved)
        try:
            async with self.crm.ledger.taking(
                key, telegram_id=event.sender.id, window=FLOOD_WINDOW, prefix="u:", held=again
            ) as arrival:
                if arrival.claim is Claim.DUPLICATE:
                    log.info("update %s delivered again: ignored", event.update_id)
                    reply = Reply(duplicate=True, outcome="duplicate")
                else:
                    reply = await self._handle(event, arrival)
        except Unavailable:
            if saved[0]:  # the update's COMMIT, with a change in it, may have happened
                raise _SavedThenUnavailable from None
            with contextlib.suppress(Unavailable):
                await self.crm.ledger.release(key)  # a claim whose COMMIT got no answer, if it was made
                held.discard(key)
            raise
        except Exception:
            # Nothing of the update was saved (its unit rolled back); it is marked done on its own,
            # as ``_once`` marks an update that failed, so that a redelivery does not fail again.
            with contextlib.suppress(Unavailable):
                await self.crm.ledger.once(key, subject_id=event.sender.id)
            held.discard(key)
            raise
        finally:
            saved_changes.reset(counting)
        held.discard(key)
        return reply

    async def _saved(self, event: Event, held: set[str]) -> Reply:
        """The update saved its change, and the database went before its reply was ready: once the
        database is back the update is marked done (not done again) and the question it answered
        closed (a change ends it: the note is saved, the deal created), and the user told it was saved.
        """
        key = f"u:{self.settings.bot_id}:{event.update_id}"

        async def close() -> None:
            await self.crm.dialogs.drop(event.sender.id)
            await self.crm.ledger.finish(key)
            held.discard(key)

        with contextlib.suppress(Unavailable):
            await through_an_outage(RETRY_DELAYS_S)(close)
        text = Tr(event.sender.language_code or "en")("Saved.")
        if isinstance(event, ButtonPress):
            return Reply(outcome="saved").answer(f"✅ {text}")
        return Reply(outcome="saved").send(View.of([f"✅ {text}"]))

    async def _finish(self, key: str, held: set[str]) -> None:
        """Mark the update done. When the database went away after the work, the reply goes out now
        and the mark follows once it is back (else the claim would stay open, and a redelivery after
        its lease would do the work again)."""
        try:
            await self.crm.ledger.finish(key)
        except Unavailable:
            task = asyncio.create_task(self._finish_when_back(key))
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)
        held.discard(key)

    async def _finish_when_back(self, key: str) -> None:
        await asyncio.sleep(RETRY_DELAYS_S[0])  # the mark has just failed once
        try:
            await through_an_outage(RETRY_DELAYS_S[1:])(self.crm.ledger.finish, key)
        except Unavailable:
            log.warning("update %s: the database stayed away; its claim ends with its lease", key)

    def _unavailable(self, event: Event) -> Reply:
        tr = Tr(event.sender.language_code or "en")
        text = tr("The CRM is briefly unavailable. Please try again in a minute.")
        if isinstance(event, ButtonPress):
            return Reply(outcome="unavailable").answer(text, alert=True)
        return Reply(outcome="unavailable").send(View.of([f"⚠️ {text}"]))

    async def _handle(self, event: Event, arrival: Arrival) -> Reply:
        if not event.private:
            return await self._in_group(event)
        user = arrival.sender
        stranger = user is None or not user.active
        if arrival.recent > FLOOD_LIMIT:
            reply = await self._slow_down(event, user)
            reply.stranger = stranger
            return self._within_budget(event, reply)
        if user is None or not user.active:
            reply = await self.entry.stranger(self.crm, self.settings, event, known=user)
            return self._within_budget(event, reply)
        user = await self.crm.users.adopt_locale(user, event.sender.language_code)
        if user.blocked_bot:  # they wrote again: they unblocked the bot
            await self.crm.users.mark_blocked(user.id, blocked=False)
        ctx = ChatContext(self.crm, user, Tr(user.locale, user.timezone), event, self.settings)
        reply = await self._member(ctx)
        reply.locale = reply.locale or ctx.tr.locale
        return reply

    async def _member(self, ctx: ChatContext) -> Reply:
        event = ctx.event
        assert event is not None
        try:
            return await self._route(ctx)
        except StaleVersion as error:
            reply = await self.entry.stale_card(ctx, error.deal_id)
            reply.outcome = "stale"
            return reply
        except Unavailable:
            raise
        except CrmError as error:
            return self._refusal(ctx, explain(error, ctx.tr), "refused")
        except Exception:
            log.exception("update %s from %s failed", event.update_id, event.sender.id)
            return self._refusal(
                ctx, ctx.tr("Sorry, something went wrong on our side. Please try again."), "error"
            )

    def _within_budget(self, event: Event, reply: Reply) -> Reply:
        """A reply to a stranger, if the strangers' budget has room for it; else none (the update is
        done all the same): a flood of strangers must not use up what Telegram lets the bot send."""
        messages = any(not isinstance(a, Answer) for a in reply.actions)  # a press's answer is free
        now = self.crm.clock.now().timestamp()
        if not reply.stranger or not messages or self.strangers.admit(event.sender.id, now):
            return reply
        log.debug("update %s: no reply to stranger %s (over budget)", event.update_id, event.sender.id)
        return Reply(outcome="muted", stranger=True)

    def _refusal(self, ctx: ChatContext, text: str, outcome: str) -> Reply:
        if isinstance(ctx.event, ButtonPress):
            return Reply(outcome=outcome).answer(text, alert=True)
        return Reply(outcome=outcome).send(View.of([f"⚠️ {text}"]))

    async def _route(self, ctx: ChatContext) -> Reply:
        event = ctx.event
        if isinstance(event, ButtonPress):
            return await self._button(ctx, event)
        if isinstance(event, Command):
            return await self._command(ctx, event.name, event.args)
        if isinstance(event, Other):
            return Reply().send(
                View.of([ctx.tr("I understand text, buttons and shared contacts. Try the menu.")])
            )
        if isinstance(event, Text) and event.text.strip() in self.menu_labels:
            await self.crm.dialogs.drop(ctx.user.telegram_id)
            return await self._command(ctx, self.menu_labels[event.text.strip()], "")
        assert isinstance(event, Text | SharedContact)
        dialog = await self.crm.dialogs.get(ctx.user.telegram_id)
        if dialog is not None and dialog.flow in self.flows:
            try:
                return await self.flows[dialog.flow](ctx, dialog, event)
            except CrmError as error:
                # A bad answer is asked again; a refusal no answer can change (the deal changed, is gone
                # or closed) ends the question, or every later message would get that refusal again.
                if not isinstance(error, InvalidInput | Unavailable):
                    await self.crm.dialogs.drop(ctx.user.telegram_id)
                raise
        return await self.entry.free_text(ctx, event)

    async def _command(self, ctx: ChatContext, name: str, args: str) -> Reply:
        handler = self.commands.get(name)
        if handler is not None and name in self.boss_only and not ctx.user.is_boss:
            await self.crm.dialogs.drop(ctx.user.telegram_id)
            lines = [ctx.tr("/{command} is for bosses. Here is what you can do:", command=name)]
            return Reply().send(View.of([*lines, *self.entry.help_lines(ctx)]))
        if handler is None:
            return Reply().send(
                View.of(
                    [ctx.tr("I don't know that command. Here is what I can do:"), *self.entry.help_lines(ctx)]
                )
            )
        if name != "start":
            await self.crm.dialogs.drop(ctx.user.telegram_id)
        return await handler(ctx, args)

    async def _button(self, ctx: ChatContext, event: ButtonPress) -> Reply:
        try:
            payload = self.codec.decode(event.data)
        except codec.BadPayload:
            log.warning("update %s: unknown button data from %s", event.update_id, event.sender.id)
            return Reply().answer(ctx.tr("This button no longer works. Open the menu again."), alert=True)
        handler = self.buttons.get(type(payload))
        if handler is None:
            return Reply().answer(ctx.tr("This button no longer works. Open the menu again."), alert=True)
        reply = await handler(ctx, payload)
        if not any(isinstance(a, Answer) for a in reply.actions):
            reply.actions.insert(0, Answer())
        return reply

    async def _slow_down(self, event: Event, user: User | None) -> Reply:
        tr = Tr(user.locale if user else (event.sender.language_code or "en"))
        text = tr("You're going a bit fast — give me a few seconds.")
        reply = Reply()
        if isinstance(event, ButtonPress):
            reply.answer(text)
        elif await self._first_warning(event.sender.id):
            reply.send(View.of([f"🐢 {text}"]))
        return reply

    async def _first_warning(self, sender_id: int) -> bool:
        """Warn once per flood: not again while the last warning is within the window.

        A fixed ten-second bucket alone would warn twice when a flood crosses a bucket's edge.
        """
        if await self.crm.ledger.recent_count(sender_id, window=FLOOD_WINDOW, prefix="flood:"):
            return False
        bucket = int(self.crm.clock.now().timestamp() // FLOOD_WINDOW.total_seconds())
        return await self.crm.ledger.once(f"flood:{sender_id}:{bucket}", subject_id=sender_id)

    async def _in_group(self, event: Event) -> Reply:
        reply = Reply()
        if isinstance(event, ButtonPress):
            return reply.answer()
        if await self.crm.ledger.once(f"group:{self.settings.bot_id}:{event.chat_id}"):
            tr = Tr(event.sender.language_code or "en")
            reply.send(View.of([tr("I work in private chat only — write to me directly.")]))
        return reply

    def commands_for(self, user: User | None, locale: str) -> list[tuple[str, str]]:
        """The command menu Telegram shows (setMyCommands), per role and language."""
        return self.entry.command_list(Tr(locale), boss=bool(user and user.is_boss))
