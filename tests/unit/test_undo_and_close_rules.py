"""A move straight back undoes the move, an early reopen undoes the close, and a close ends the tasks.

The deal's stage history is kept here as the database would (each event with its id), and
``last_undoable`` reads it as the service does before every move.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_core.domain.deals import UNDO_WINDOW, Deal
from crm_core.domain.errors import InvalidInput
from crm_core.domain.history import Actor, DealEvent, EventKind, last_undoable
from crm_core.domain.tasks import Task, TaskKind
from tests.unit.test_deal_rules import ALICE, PIPELINE, T0, a_deal

ME = Actor.of(ALICE)
H, D = timedelta(hours=1), timedelta(days=1)


class Story:
    """A deal and its stage history, each change at a time after ``T0``."""

    def __init__(self, stage: str = "Opportunity") -> None:
        self.deal: Deal = a_deal(stage)  # in the stage since T0, last active at T0
        created = DealEvent(self.deal.id, EventKind.CREATED, T0, to_stage_id=self.deal.stage.id, id=1)
        self.history: list[DealEvent] = [created]

    def _keep(self, event: DealEvent) -> DealEvent:
        event.id = len(self.history) + 1
        self.history.append(event)
        return event

    def move(self, stage: str, after: timedelta) -> DealEvent:
        target = PIPELINE.find(stage)
        undoable = last_undoable(self.history)
        return self._keep(
            self.deal.move_to(target, at=T0 + after, actor=ME, lost_reason="Price", undoable=undoable)
        )

    def reopen(self, after: timedelta) -> DealEvent:
        undoable = last_undoable(self.history)
        return self._keep(self.deal.reopen(PIPELINE, at=T0 + after, actor=ME, undoable=undoable))


def test_a_move_straight_back_undoes_the_move_and_the_deal_stays_in_its_stage_since_it_entered() -> None:
    story = Story()
    forward = story.move("Commercial offer", 8 * D)  # after 8 days in Opportunity
    back = story.move("Opportunity", 8 * D + H)
    assert back.kind is EventKind.MOVED and back.undoes_id == forward.id
    assert (back.from_stage_id, back.to_stage_id) == (3, 2)
    deal = story.deal
    assert (deal.stage.name, deal.stage_entered_at, deal.last_activity_at) == ("Opportunity", T0, T0)
    assert deal.is_closed is False


def test_a_move_back_the_other_way_undoes_too() -> None:
    story = Story("Commercial offer")
    backward = story.move("Opportunity", 8 * D)
    again = story.move("Commercial offer", 8 * D + H)
    assert again.undoes_id == backward.id
    assert (story.deal.stage.name, story.deal.stage_entered_at) == ("Commercial offer", T0)


def test_a_move_back_a_day_later_is_a_move_of_its_own() -> None:
    story = Story()
    story.move("Commercial offer", 8 * D)
    back = story.move("Opportunity", 8 * D + UNDO_WINDOW + timedelta(seconds=1))
    assert back.undoes_id is None
    assert story.deal.stage_entered_at == T0 + 8 * D + UNDO_WINDOW + timedelta(seconds=1)


def test_a_move_to_another_stage_than_the_one_just_left_is_a_move_of_its_own() -> None:
    story = Story()
    story.move("Commercial offer", 8 * D)
    other = story.move("Unsorted", 8 * D + H)
    assert other.undoes_id is None and story.deal.stage_entered_at == T0 + 8 * D + H


def test_two_moves_forward_and_two_back_undo_both_in_turn() -> None:
    story = Story()
    first = story.move("Commercial offer", 8 * D)
    second = story.move("Document approval", 8 * D + H)
    assert story.move("Commercial offer", 8 * D + 2 * H).undoes_id == second.id
    assert story.deal.stage_entered_at == T0 + 8 * D  # as it was after the first move
    assert story.move("Opportunity", 8 * D + 3 * H).undoes_id == first.id
    assert (story.deal.stage.name, story.deal.stage_entered_at, story.deal.last_activity_at) == (
        "Opportunity",
        T0,
        T0,
    )


def test_an_undo_is_not_undone_a_move_after_it_is_a_new_move() -> None:
    story = Story()
    story.move("Commercial offer", 8 * D)
    story.move("Opportunity", 8 * D + H)
    again = story.move("Commercial offer", 8 * D + 2 * H)
    assert again.undoes_id is None
    assert story.deal.stage_entered_at == T0 + 8 * D + 2 * H


def test_activity_between_the_move_and_the_undo_still_counts() -> None:
    story = Story()
    story.move("Commercial offer", 8 * D)
    story.deal.touch(T0 + 8 * D + 30 * timedelta(minutes=1))  # a note, a call
    story.move("Opportunity", 8 * D + H)
    assert story.deal.stage_entered_at == T0
    assert story.deal.last_activity_at == T0 + 8 * D + timedelta(minutes=30)


def test_a_reopen_within_a_day_undoes_the_close() -> None:
    story = Story()
    lost = story.move("Lost", 8 * D)
    reopened = story.reopen(8 * D + H)
    assert (reopened.kind, reopened.undoes_id, reopened.to_stage_id) == (EventKind.REOPENED, lost.id, 2)
    deal = story.deal
    assert (deal.stage.name, deal.stage_entered_at, deal.last_activity_at, deal.closed_at) == (
        "Opportunity",
        T0,
        T0,
        None,
    )


def test_after_an_undone_close_the_move_before_it_can_be_undone() -> None:
    story = Story()
    forward = story.move("Commercial offer", 8 * D)
    story.move("Won", 8 * D + H)
    story.reopen(8 * D + 2 * H)
    assert story.move("Opportunity", 8 * D + 3 * H).undoes_id == forward.id
    assert story.deal.stage_entered_at == T0


def test_a_late_reopen_is_a_new_start_nothing_before_it_is_undone() -> None:
    story = Story()
    story.move("Commercial offer", H)
    story.move("Lost", 2 * H)
    reopened = story.reopen(2 * H + D + H)
    assert reopened.undoes_id is None
    assert story.deal.stage_entered_at == T0 + 2 * H + D + H
    back = story.move("Opportunity", 2 * H + D + 2 * H)
    assert back.undoes_id is None


def test_a_stage_event_read_without_its_undo_details_is_not_undone() -> None:
    story = Story()
    forward = story.move("Commercial offer", 8 * D)
    forward.data.clear()  # a move recorded before undoing existed
    back = story.move("Opportunity", 8 * D + H)
    assert back.undoes_id is None and story.deal.stage_entered_at == T0 + 8 * D + H


def a_task(task_id: int, *, done: bool = False) -> Task:
    return Task(
        id=task_id,
        deal_id=7,
        assignee_id=ALICE.id,
        due_at=T0 + D,
        text=f"Call {task_id}",
        kind=TaskKind.FOLLOW_UP,
        created_at=T0,
        done_at=T0 + H if done else None,
    )


@pytest.mark.parametrize("closed", ["Won", "Lost"])
def test_closing_a_deal_cancels_its_open_tasks_in_the_history(closed: str) -> None:
    deal = a_deal()
    deal.move_to(PIPELINE.find(closed), at=T0 + 2 * H, actor=ME, lost_reason="Price")
    tasks = [a_task(1), a_task(2, done=True), a_task(3)]
    events = deal.close_tasks(tasks, at=T0 + 2 * H, actor=ME)
    assert [(e.kind, e.data) for e in events] == [
        (
            EventKind.TASK_CANCELLED,
            {"task_id": 1, "text": "Call 1", "task_kind": "follow_up", "closed_as": closed.lower()},
        ),
        (
            EventKind.TASK_CANCELLED,
            {"task_id": 3, "text": "Call 3", "task_kind": "follow_up", "closed_as": closed.lower()},
        ),
    ]
    assert [(t.is_open, t.cancelled_at) for t in tasks] == [
        (False, T0 + 2 * H),
        (False, None),
        (False, T0 + 2 * H),
    ]
    with pytest.raises(InvalidInput, match="cancelled when its deal was closed"):
        tasks[0].check_open()


def test_an_open_deal_has_no_tasks_to_close() -> None:
    with pytest.raises(InvalidInput):
        a_deal().close_tasks([a_task(1)], at=T0, actor=ME)


def test_a_task_of_a_closed_deal_is_not_open_even_if_never_cancelled() -> None:
    task = a_task(1)
    task.deal_closed = True
    assert not task.is_open and not task.is_overdue(T0 + 2 * D)
    with pytest.raises(InvalidInput, match="cancelled when its deal was closed"):
        task.check_open()
