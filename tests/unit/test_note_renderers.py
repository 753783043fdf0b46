"""The renderers of notifications: one for every kind the core queues, listed in one place."""

from __future__ import annotations

import pytest

from bot.core.notify import call_unknown, deal_assigned, note_renderers
from bot.core.renderers import Renderers, Rendering
from crm_core.domain import notifications as notes


def test_every_kind_of_note_the_core_queues_has_one_renderer() -> None:
    assert note_renderers().kinds == set(notes.PAYLOADS)


def test_a_kind_given_two_renderers_is_refused_when_the_list_is_built() -> None:
    with pytest.raises(ValueError, match="deal_assigned"):
        Renderers(
            [Rendering(notes.DealAssigned, deal_assigned), Rendering(notes.DealAssigned, deal_assigned)]
        )


async def test_a_renderer_is_handed_only_the_payload_it_phrases() -> None:
    mixed_up = Renderers([Rendering(notes.CallUnknown, call_unknown)])
    with pytest.raises(LookupError, match="task_due"):
        await mixed_up.render(None, notes.TaskDue(task_id=1))  # type: ignore[arg-type]
    wrong = Rendering(notes.CallUnknown, call_unknown)
    with pytest.raises(TypeError):
        await wrong(None, notes.CallAnswered(call_id=1, caller=None, deal_id=2))  # type: ignore[arg-type]
