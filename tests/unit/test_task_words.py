"""A task is said from what it is about in the reader's language: its kind, then its own words; a
call-back from its number; history lines too, old ones (English stored) as well as new ones (data)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.features.cards import event_text, task_words
from bot.core.i18n import Tr
from crm_core.domain.errors import InvalidInput
from crm_core.domain.history import DealEvent, EventKind
from crm_core.domain.tasks import TaskKind, valid_task_text

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def history_line(locale: str, kind: EventKind, **data: object) -> str:
    return event_text(DealEvent(deal_id=1, kind=kind, at=AT, data=dict(data)), "Opportunity", Tr(locale))


@pytest.mark.parametrize("locale", ["en", "ru", "ar"])
def test_a_reminder_is_its_kind_then_its_words(locale: str) -> None:
    tr = Tr(locale)
    assert task_words(TaskKind.CALL, "", tr) == tr("Call")
    assert task_words(TaskKind.MEETING, "at <the> school", tr) == tr(
        "{kind}: {words}", kind=tr("Meeting"), words="at <the> school"
    )
    assert "&lt;the&gt;" in task_words(TaskKind.EMAIL, "<the>", tr)  # typed words are escaped
    assert task_words(TaskKind.CUSTOM, "Send the contract", tr) == "Send the contract"
    assert task_words(TaskKind.FOLLOW_UP, "", tr) == tr("Follow up")
    assert task_words(TaskKind.OTHER, "", tr) == tr("Reminder")
    assert task_words(TaskKind.OTHER, "Send the brochure", tr) == "Send the brochure"  # its words say it


def test_a_custom_task_needs_words_and_a_kind_says_enough_alone() -> None:
    assert valid_task_text("  ", TaskKind.CALL) == ""
    with pytest.raises(InvalidInput):
        valid_task_text("  ")


@pytest.mark.parametrize("locale", ["ru", "ar"])
def test_a_call_backs_history_line_is_said_in_the_readers_language_old_or_new(locale: str) -> None:
    called_back = Tr(locale)("Call back {number}", number="+7 495 123-45-67")
    new = history_line(locale, EventKind.TASK_CREATED, text="", task_kind="call_back", phone="+74951234567")
    old = history_line(
        locale, EventKind.TASK_CREATED, text="Call back +7 495 123-45-67", task_kind="call_back"
    )
    assert called_back in new and called_back in old and "Call back" not in new + old
    done = history_line(locale, EventKind.TASK_DONE, text="", task_kind="email")
    assert Tr(locale)("E-mail") in done and "E-mail" not in done
