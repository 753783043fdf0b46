"""What the chat's flows keep between their questions: one typed state per flow, stored as its JSON in
the dialog (``crm_core.domain.conversations.DialogState``) and read back by field.

The JSON keeps the keys the flows have always written, so a dialog stored before an upgrade reads on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from crm_core.domain.conversations import DialogState, WhoIsCalling
from crm_core.domain.tasks import TaskKind


@dataclass(frozen=True, slots=True, kw_only=True)
class AskedIn(DialogState):
    """Any dialog's question, as far as where it was asked: the message (a card's) it is shown in."""

    message_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CardQuestion(DialogState):
    """A question about a deal asked in its card's message; the answer brings the card back there."""

    deal_id: int
    message_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteQuestion(CardQuestion):
    """A note for the deal, to be typed."""

    FLOW: ClassVar[str] = "note"


@dataclass(frozen=True, slots=True, kw_only=True)
class LostQuestion(CardQuestion):
    """Why the deal (at ``version``) was lost, in a few words."""

    FLOW: ClassVar[str] = "lost"
    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class EditQuestion(CardQuestion):
    """A new ``field`` value for the deal (at ``version``); ``value``: the one typed, while the user
    says whether a shared contact changes for all its deals."""

    FLOW: ClassVar[str] = "edit"
    version: int
    field: str
    value: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RequiredQuestion(CardQuestion):
    """A move to ``stage_id`` waits for the deal's fields that stage requires; ``key``: the one asked now."""

    FLOW: ClassVar[str] = "required"
    stage_id: int
    key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReminderDraft(CardQuestion):
    """A reminder being planned: what about (``kind``, ``words``) and, once asked, when.
    ``version``: the deal's as the menu showed it (``None``: not checked)."""

    FLOW: ClassVar[str] = "remind"
    version: int | None = None
    kind: TaskKind = TaskKind.OTHER
    words: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SnoozeDraft(CardQuestion):
    """A snooze of the deal (at ``version``) being planned: ``until`` once asked."""

    FLOW: ClassVar[str] = "snooze"
    version: int
    until: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FindQuestion(DialogState):
    """What to search for, to be typed."""

    FLOW: ClassVar[str] = "find"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewDealDraft(DialogState):
    """A new deal, answer by answer: the funnel first when there are several, then the title, the
    contact, the phone and the amount (each ``None`` until given or skipped; no funnel: the default)."""

    FLOW: ClassVar[str] = "new_deal"
    pipeline_id: int | None = None
    title: str | None = None
    contact: str | None = None
    phone: str | None = None
    amount: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtensionsQuestion(DialogState):
    """A boss gives a team member (``user_id``) their phone extensions, to be typed."""

    FLOW: ClassVar[str] = "extensions"
    user_id: int
    message_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeactivateQuestion(DialogState):
    """A boss is asked to confirm deactivating a team member (``user_id``)."""

    FLOW: ClassVar[str] = "deactivate"
    user_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteDraft(DialogState):
    """An invitation being made: the extensions it gives, then the role asked."""

    FLOW: ClassVar[str] = "invite"
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ZoneQuestion(DialogState):
    """A time zone for ``user_id`` (the user or, by a boss, a team member), to be typed; ``where``: the
    page to go back to."""

    FLOW: ClassVar[str] = "zone"
    user_id: int
    where: str | None = None
    message_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetQuestion(DialogState):
    """A boss sets a seller's (``user_id``) target for ``month``: the amount typed, then the deals."""

    FLOW: ClassVar[str] = "target"
    user_id: int
    month: str
    amount: str | None = None


# Every flow's state: the one list the round-trip tests go through.
DIALOG_STATES: tuple[type[DialogState], ...] = (
    WhoIsCalling,
    NoteQuestion,
    LostQuestion,
    EditQuestion,
    RequiredQuestion,
    ReminderDraft,
    SnoozeDraft,
    FindQuestion,
    NewDealDraft,
    ExtensionsQuestion,
    DeactivateQuestion,
    InviteDraft,
    ZoneQuestion,
    TargetQuestion,
)
