"""When a colleague answers or returns your customer's call, you are told, once, in a batched notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from crm_core.adapters.tables import outbox
from crm_core.services import Crm
from tests.e2e.harness import ALI, EmulatedChat, RunningKanbot, visible
from tests.e2e.test_calls import post_call, said_to

ACME, GLOBEX = "+74951234567", "+74951112233"


async def test_an_owner_is_told_once_in_one_notice_that_a_colleague_spoke_with_two_of_their_customers(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm
) -> None:
    ali = await crm.users.identify(ALI)
    await crm.deals.create(actor=ali, title="ACME order", contact_name="Ivan", phone=ACME)
    await crm.deals.create(actor=ali, title="Globex PBX", contact_name="Hank", phone=GLOBEX)
    ended = {"ended_at": datetime.now(UTC).isoformat(), "duration_s": 40}
    await post_call(kanbot, call_id="k-1", rang=["102"], answered_by="102", **ended)  # Maria answers
    await post_call(
        kanbot, call_id="k-2", caller=GLOBEX, status="missed", answered_by=None, answered_at=None, **ended
    )
    await said_to(chat, ALI, "Missed call from +7 495 111-22-33")
    await post_call(  # Maria calls Ali's customer back
        kanbot,
        call_id="k-3",
        direction="outbound",
        caller="+74950000000",
        dialed=GLOBEX,
        rang=["102"],
        answered_by="102",
        **ended,
    )
    await chat.wait()
    assert not [m for m in await chat.bot_messages(ALI) if "spoke with" in m.text]  # not one per call

    kanbot.let_time_pass(timedelta(minutes=16))
    notice = await said_to(chat, ALI, "spoke with 2 of your customers:")
    text = visible(notice.text)
    assert text.startswith("📞 Maria spoke with 2 of your customers:")
    assert "• ACME order — answered their call" in text
    assert "• Globex PBX — returned the missed call" in text
    await chat.wait()
    assert len([m for m in await chat.bot_messages(ALI) if "spoke with" in m.text]) == 1
    async with crm.db.engine.connect() as conn:  # Maria, who took the calls, is told nothing of them
        told = await conn.execute(select(outbox.c.recipient_id).where(outbox.c.kind == "colleague_calls"))
        assert list(told.scalars()) == [ali.id]

    await chat.click(ALI, "Globex PBX", message_id=notice.message_id)
    assert "Globex PBX" in (await chat.last(ALI)).text
