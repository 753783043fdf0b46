"""The card's figures count everything: "Calls (N)" is every call of the deal, not the first page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from crm_core.services import Crm
from tests.e2e.harness import ALI, EmulatedChat


def answered(n: int, at: datetime) -> CallEvent:
    return CallEvent(
        call_id=f"c{n}",
        provider="asterisk",
        direction=CallDirection.INBOUND,
        status=CallStatus.ANSWERED,
        caller="+74951234567",
        dialed="+74950000000",
        started_at=at,
        rang=("101",),
        answered_by="101",
        answered_at=at + timedelta(seconds=5),
        ended_at=at + timedelta(seconds=65),
        duration_s=60,
    )


async def test_a_deal_with_25_calls_shows_calls_25_and_lists_the_newest_with_the_rest_counted(
    chat: EmulatedChat, crm: Crm
) -> None:
    start = datetime.now(UTC) - timedelta(days=3)
    deal_id = None
    for n in range(25):
        outcome = await crm.calls.ingest_call(answered(n, start + timedelta(minutes=10 * n)))
        deal_id = deal_id or outcome.deal_id
    assert deal_id is not None
    await chat.send(ALI, "/deals")
    await chat.click(ALI, "+7 495 123-45-67")
    card = await chat.last(ALI)
    await chat.click(ALI, "⋯ More", message_id=card.message_id)
    more = await chat.message(ALI, card.message_id)
    assert "📞 Calls (25)" in more.button_texts, more.button_texts
    await chat.click(ALI, "Calls (25)", message_id=card.message_id)
    calls = await chat.message(ALI, card.message_id)
    assert calls.text.count("answered") == 20 and "…and 5 earlier calls." in calls.text
