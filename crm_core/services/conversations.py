"""Conversation state for a chat front end: multi-step dialogs and a ledger of work already done."""

from __future__ import annotations

import enum
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm_core.domain.conversations import Dialog, DialogState
from crm_core.domain.errors import OutOfDate
from crm_core.domain.users import User
from crm_core.services.base import ServiceBase
from crm_core.services.unit_of_work import UnitOfWork, UpdateBroken

log = logging.getLogger(__name__)
DIALOG_TTL = timedelta(hours=1)
CLAIM_LEASE = timedelta(seconds=60)
MEMORY = timedelta(days=1)
MAX_DRAFT = 2**31 - 1  # a draft's number, carried by buttons (six base-36 digits at most)


class Claim(enum.StrEnum):
    NEW = "new"  # first delivery: do the work
    DUPLICATE = "duplicate"  # done already, or being done by someone else right now


@dataclass(frozen=True, slots=True)
class Arrival:
    """An update's bookkeeping, read in one transaction: whether to do it, its sender's pace, its sender."""

    claim: Claim
    recent: int  # the sender's updates within the window, this one included
    sender: User | None  # None for a stranger


class DialogService(ServiceBase):
    """Where a person is in a multi-step flow; a flow left untouched for an hour is dropped."""

    async def get(self, subject_id: int) -> Dialog | None:
        async with self.db.uow(write=False) as uow:
            dialog = await uow.dialogs.get(subject_id)
        if dialog is not None and self.now() - dialog.updated_at > DIALOG_TTL:
            await self.drop(subject_id)
            return None
        return dialog

    async def put(self, subject_id: int, state: DialogState, *, step: str) -> Dialog:
        """Save where the person is in ``state``'s flow; every write is a new draft, with a number of its
        own that the buttons shown with it carry (``confirmed`` then tells a button of an older draft)."""
        dialog = Dialog.of(
            subject_id, state, step=step, at=self.now(), draft=secrets.randbelow(MAX_DRAFT) + 1
        )
        async with self.db.uow(bookkeeping=True) as uow:
            await uow.dialogs.put(dialog)
            await uow.commit()
        return dialog

    async def confirmed(
        self, subject_id: int, *, flow: str, draft: int, step: str | None = None, what: str = "summary"
    ) -> Dialog:
        """The dialog a button confirms: ``OutOfDate`` unless it is still that very draft of ``flow``
        (at ``step``) — an old summary's "Create" must not create the draft that came after it."""
        dialog = await self.get(subject_id)
        if (
            dialog is None
            or dialog.flow != flow
            or dialog.draft != draft
            or (step is not None and dialog.step != step)
        ):
            raise OutOfDate(what)
        return dialog

    async def drop(self, subject_id: int) -> None:
        async with self.db.uow(bookkeeping=True) as uow:
            await uow.dialogs.drop(subject_id)
            await uow.commit()

    async def expire(self) -> int:
        """Forget abandoned flows; returns how many."""
        async with self.db.uow(bookkeeping=True) as uow:
            count = await uow.dialogs.drop_older_than(self.now() - DIALOG_TTL)
            await uow.commit()
        return count


class Ledger(ServiceBase):
    """Keys of work done, so a repeated delivery (an update sent twice) has no second effect."""

    async def arrive(
        self, key: str, *, telegram_id: int, window: timedelta, prefix: str, held: bool = False
    ) -> Arrival:
        """Claim an update and, in the same transaction, count its sender's updates within ``window``
        and find the sender: one transaction for what every update asks before its work.

        ``held``: this caller may have claimed it already (its commit met a broken connection): its
        own claim is taken up again. Someone else's claim makes the update a duplicate unless the
        process that made it is gone: died (its liveness lock is free: taken over at once) or silent
        past the lease.
        """
        now = self.now()
        owner = await self.db.liveness.hold()
        async with self.db.uow(bookkeeping=True) as uow:
            claimed = await uow.processed.claim(
                key, subject_id=telegram_id, at=now, state="working", owner=owner
            )
            if not claimed and not await self._take_over(uow, key, owner=owner, held=held, now=now):
                return Arrival(Claim.DUPLICATE, 0, None)
            since = now - window
            sender, recent = await uow.users.by_telegram_id_paced(telegram_id, since=since, prefix=prefix)
            await uow.commit()
        return Arrival(Claim.NEW, recent, sender)

    @asynccontextmanager
    async def taking(
        self, key: str, *, telegram_id: int, window: timedelta, prefix: str, held: bool = False
    ) -> AsyncIterator[Arrival]:
        """The update as one unit of work: ``arrive``'s claim, pace and sender, then whatever the
        caller does within (every service's unit of work joins this one's transaction), then the
        done mark, committed together. When a change within fails (refused: a stale version, a bad
        input), the update is rolled back and its claim recorded done on its own, so its answer
        stands and nothing else is saved; an exception out of the block leaves nothing of the update
        (a retry or a redelivery does it again). A duplicate's arrival commits nothing.
        """
        now = self.now()
        owner = await self.db.liveness.hold()
        try:
            async with self.db.update_uow() as uow:
                # Claimed as done at once: the claim commits with the work or not at all.
                claimed = await uow.processed.claim(
                    key, subject_id=telegram_id, at=now, state="done", owner=owner
                )
                if not claimed and not await self._take_over(uow, key, owner=owner, held=held, now=now):
                    yield Arrival(Claim.DUPLICATE, 0, None)
                    return
                sender, recent = await uow.users.by_telegram_id_paced(
                    telegram_id, since=now - window, prefix=prefix
                )
                yield Arrival(Claim.NEW, recent, sender)
                if not claimed:  # taken over from a process that is gone: its claim said "working"
                    await uow.processed.set_state(key, "done", at=self.now())
                await uow.commit()
        except UpdateBroken:  # a change within failed (refused, as a rule): the claim alone is kept
            log.info("%s: a change within it failed: the update rolled back, its claim kept alone", key)
            if not await self.once(key, subject_id=telegram_id):
                await self.finish(key)  # a claim taken over: it said "working"

    @staticmethod
    async def _take_over(uow: UnitOfWork, key: str, *, owner: str | None, held: bool, now: datetime) -> bool:
        was = await uow.processed.holder(key)
        if was is None or was.state != "working":
            return False
        if held and was.owner == owner:
            return True
        stale_before = now - CLAIM_LEASE
        if was.at < stale_before:
            return await uow.processed.retake(key, was=was, at=now, owner=owner, stale_before=stale_before)
        if was.owner is not None and was.owner != owner and await uow.processed.owner_gone(was.owner):
            log.info("%s: claimed by a process that is gone (%s): taken over", key, was.owner)
            return await uow.processed.retake(key, was=was, at=now, owner=owner, stale_before=None)
        return False

    async def finish(self, key: str) -> None:
        async with self.db.uow(bookkeeping=True) as uow:
            await uow.processed.set_state(key, "done", at=self.now())
            await uow.commit()

    async def release(self, key: str) -> None:
        """Forget a claim whose work did not happen, so a retry or a redelivery does it."""
        async with self.db.uow(bookkeeping=True) as uow:
            await uow.processed.release(key)
            await uow.commit()

    async def once(self, key: str, *, subject_id: int | None = None) -> bool:
        """``True`` the first time ``key`` is seen, ``False`` ever after (one-time notices)."""
        async with self.db.uow(bookkeeping=True) as uow:
            first = await uow.processed.claim(key, subject_id=subject_id, at=self.now())
            await uow.commit()
        return first

    async def recent_count(self, subject_id: int, *, window: timedelta, prefix: str) -> int:
        async with self.db.uow(write=False) as uow:
            return await uow.processed.count_since(subject_id, self.now() - window, prefix=prefix)

    async def forget_old(self) -> int:
        """Drop keys older than a day: a day is as long as Telegram redelivers."""
        async with self.db.uow(bookkeeping=True) as uow:
            count = await uow.processed.forget_older_than(self.now() - MEMORY)
            await uow.commit()
        return count
