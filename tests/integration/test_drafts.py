"""A multi-step flow's drafts: each write is a new draft, and a button confirms only the one it came with."""

from __future__ import annotations

import pytest

from bot.core.dialogs import NewDealDraft
from crm_core.domain.errors import OutOfDate
from crm_core.services import Crm


async def test_a_button_confirms_only_the_draft_it_was_shown_with(crm: Crm) -> None:
    first = await crm.dialogs.put(7, NewDealDraft(title="Old idea"), step="confirm")
    assert (await crm.dialogs.confirmed(7, flow="new_deal", draft=first.draft)).data == {"title": "Old idea"}
    await crm.dialogs.drop(7)
    with pytest.raises(OutOfDate):  # dropped: its buttons confirm nothing
        await crm.dialogs.confirmed(7, flow="new_deal", draft=first.draft)
    second = await crm.dialogs.put(7, NewDealDraft(title="New idea"), step="confirm")
    assert second.draft != first.draft
    with pytest.raises(OutOfDate) as refusal:
        await crm.dialogs.confirmed(7, flow="new_deal", draft=first.draft)
    assert refusal.value.what == "summary"
    for wrong in ({"flow": "snooze"}, {"step": "title"}):
        with pytest.raises(OutOfDate):
            await crm.dialogs.confirmed(7, **{"flow": "new_deal", "draft": second.draft, **wrong})  # type: ignore[arg-type]
    stored = await crm.dialogs.get(7)
    assert stored is not None and (stored.draft, stored.data) == (second.draft, {"title": "New idea"})
