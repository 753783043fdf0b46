"""A boss's report (funnel, conversion, where deals are lost, periods, per seller) and team management."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crm_core.domain.calls import CallDirection, CallEvent, CallStatus
from crm_core.domain.users import Role
from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, MARIA, EmulatedChat, crm_at


async def a_funnel_limping_at_the_offer(crm: Crm) -> None:
    """Five days ago: eight of Ali's deals qualified; four were lost at the offer, which others pass."""
    ali = await crm.users.identify(ALI)
    past = crm_at(crm, datetime.now(UTC) - timedelta(days=5))
    for i in range(8):
        deal = await past.deals.create(actor=ali, title=f"Lead {i}", amount="1000")
        await past.deals.move(deal_id=deal.id, to_stage="Opportunity", actor=ali)
        await past.deals.move(deal_id=deal.id, to_stage="Commercial offer", actor=ali)
        if i < 4:
            await past.deals.mark_lost(deal_id=deal.id, reason="Price", actor=ali)
        else:
            await past.deals.move(deal_id=deal.id, to_stage="Document approval", actor=ali)
    maria = await crm.users.identify(MARIA)
    await crm.deals.create(actor=maria, title="Maria's lead", amount="500", stage="Opportunity")


async def test_the_report_shows_the_funnel_the_conversion_and_the_lame_stage(
    chat: EmulatedChat, crm: Crm
) -> None:
    await a_funnel_limping_at_the_offer(crm)
    await chat.send(BOSS, "/report")
    report = await chat.last(BOSS)
    assert "Report · the team" in report.text
    assert "Funnel now — 5 open · ₽4,500" in report.text
    assert "🔹 Document approval: 4 · ₽4,000" in report.text
    assert "Conversion and losses — 30 days" in report.text
    conversion = report.text.split("Conversion and losses")[1].splitlines()
    offer = next(line for line in conversion if line.startswith("🔹 Commercial offer:"))
    assert "8 in → 50% on, 50% lost" in offer and offer.endswith("⚠️")
    assert not any(line.endswith("⚠️") for line in conversion if line is not offer)
    assert "Where deals are lost: Commercial offer — 50%" in report.text
    assert "• 30 days" in report.button_texts


async def test_the_reports_period_buttons_and_a_sellers_figures(chat: EmulatedChat, crm: Crm) -> None:
    await a_funnel_limping_at_the_offer(crm)
    await chat.send(BOSS, "/report")
    report = await chat.last(BOSS)
    await chat.click(BOSS, "Today", message_id=report.message_id)
    today = await chat.message(BOSS, report.message_id)
    assert "Conversion and losses — today" in today.text and "• Today" in today.button_texts
    assert "Too few deals lost yet" in today.text and "Where deals are lost:" not in today.text
    await chat.click(BOSS, "7 days", message_id=report.message_id)
    week = await chat.message(BOSS, report.message_id)
    assert "• 7 days" in week.button_texts and "Where deals are lost: Commercial offer" in week.text
    await chat.click(BOSS, "Choose a seller", message_id=report.message_id)
    await chat.click(BOSS, "Maria", message_id=report.message_id)
    marias = await chat.message(BOSS, report.message_id)
    assert "Report · Maria" in marias.text and "Funnel now — 1 open · ₽500" in marias.text
    assert "Where deals are lost:" not in marias.text


async def test_a_sellers_report_covers_only_their_deals(chat: EmulatedChat, crm: Crm) -> None:
    await a_funnel_limping_at_the_offer(crm)
    await chat.send(ALI, "/report")
    report = await chat.last(ALI)
    assert "Report · your deals" in report.text and "Funnel now — 4 open · ₽4,000" in report.text
    assert not any("Choose a seller" in t for t in report.button_texts)


async def test_the_team_view_shows_each_seller_and_their_board(chat: EmulatedChat, crm: Crm) -> None:
    await a_funnel_limping_at_the_offer(crm)
    await chat.send(BOSS, "/team")
    team = await chat.last(BOSS)
    assert "• Ali: 4 · 0 · 4" in team.text and "• Maria: 1 · 0 · 0" in team.text  # Ali's 4 are stale
    await chat.click(BOSS, "Ali", message_id=team.message_id)
    ali = await chat.message(BOSS, team.message_id)
    assert "Open: 4 · ₽4,000" in ali.text and "Lost in 30 days: 4" in ali.text
    await chat.click(BOSS, "Their board", message_id=team.message_id)
    board = await chat.message(BOSS, team.message_id)
    assert "Board · Ali" in board.text
    assert any(t.endswith("Document approval · 4 · ₽4,000") for t in board.button_texts)


async def test_deactivating_a_seller_hands_their_deals_to_a_colleague(chat: EmulatedChat, crm: Crm) -> None:
    await a_funnel_limping_at_the_offer(crm)
    await chat.send(BOSS, "/team")
    team = await chat.last(BOSS)
    await chat.click(BOSS, "Ali", message_id=team.message_id)
    await chat.click(BOSS, "Deactivate", message_id=team.message_id)
    assert "Deactivate Ali? Their open deals go to:" in (await chat.message(BOSS, team.message_id)).text
    await chat.click(BOSS, "Maria", message_id=team.message_id)
    done = await chat.message(BOSS, team.message_id)
    assert "Ali is deactivated; 4 open deals handed over." in done.text
    ali = await crm.users.by_telegram_id(ALI)
    assert ali is not None and not ali.active
    boss = await crm.users.identify(BOSS)
    marias = await crm.deals.list_deals(actor=boss, owner_telegram_id=MARIA)
    assert sorted(d.title for d in marias if not d.is_closed) == [
        "Lead 4",
        "Lead 5",
        "Lead 6",
        "Lead 7",
        "Maria's lead",
    ]
    assert [d for d in await crm.deals.list_deals(actor=boss, owner_telegram_id=ALI) if not d.is_closed] == []

    async def maria_was_told() -> bool:
        return any("Ali handed you 4 deals" in m.text for m in await chat.bot_messages(MARIA))

    await chat.wait_until(maria_was_told, what="Maria's hand-over notification")
    await chat.send(ALI, "/deals")
    assert "switched off" in (await chat.last(ALI)).text


async def test_a_pending_invitation_is_revoked_from_the_team_view(chat: EmulatedChat, crm: Crm) -> None:
    await chat.send(BOSS, "/invite")
    await chat.click(BOSS, "Seller")
    code = (await chat.last(BOSS)).text.split("?start=")[1].split()[0]
    await chat.send(BOSS, "/team")
    team = await chat.last(BOSS)
    assert "Pending invitations:" in team.text
    query = await chat.click(BOSS, "Revoke the seller invitation", message_id=team.message_id)
    answer = await chat.answer(query)
    assert answer is not None and "revoked" in (answer["text"] or "")
    assert "Pending invitations" not in (await chat.message(BOSS, team.message_id)).text
    assert await crm.invites.pending(actor=await crm.users.identify(BOSS)) == []
    await chat.user(3001, "Nadia")
    await chat.send(3001, f"/start {code}")
    assert "expired or was already used" in (await chat.last(3001)).text
    assert await crm.users.by_telegram_id(3001) is None


async def test_a_seller_is_told_team_and_invite_are_for_bosses(chat: EmulatedChat, crm: Crm) -> None:
    for command in ("/team", "/invite"):
        await chat.send(ALI, command)
        said, *what_they_can_do = (await chat.last(ALI)).text.split("\n")
        assert f"{command} is for bosses" in said, command
        assert "/deals" in "\n".join(what_they_can_do)
        assert not any("/team" in line or "/invite" in line for line in what_they_can_do)
    message_id = (await chat.last(ALI)).message_id
    for data in ("1iv:seller:1", "1iv:boss:1", "1tm", "1ivm", "1tms:2", "1de:3:2:1"):
        query = await chat.press_data(ALI, message_id, data)
        answer = await chat.answer(query)
        assert answer is not None and "not allowed" in (answer["text"] or ""), (data, answer)
    assert await crm.invites.pending(actor=await crm.users.identify(BOSS)) == []
    maria = await crm.users.by_telegram_id(MARIA)
    assert maria is not None and maria.active and maria.role is Role.SELLER


async def test_the_calls_page_shows_missed_calls_returned_and_how_fast(chat: EmulatedChat, crm: Crm) -> None:
    """Ali missed a customer and reached them 20 minutes later; a second customer is still waiting."""
    missed_at = datetime.now(UTC) - timedelta(hours=1)
    for call_id, caller, status, start in (
        ("m1", "+74951234567", CallStatus.MISSED, missed_at),
        ("m2", "+74957654321", CallStatus.MISSED, missed_at),
        ("a1", "+74951234567", CallStatus.ANSWERED, missed_at + timedelta(minutes=20)),
    ):
        answered = status is CallStatus.ANSWERED
        await crm.calls.ingest_call(
            CallEvent(
                call_id=call_id,
                provider="generic",
                direction=CallDirection.INBOUND,
                status=status,
                caller=caller,
                dialed="+74950000000",
                started_at=start,
                rang=("101",),
                answered_by="101" if answered else None,
                answered_at=start if answered else None,
                ended_at=start + timedelta(minutes=1),
                duration_s=60 if answered else 0,
            )
        )
    await chat.send(BOSS, "/report")
    report = await chat.last(BOSS)
    await chat.click(BOSS, "Calls", message_id=report.message_id)
    page = await chat.message(BOSS, report.message_id)
    assert "Calls — 30 days" in page.text
    ali = page.text.split("Ali:")[1].splitlines()
    assert ali[0].strip() == "1 answered · 0 outbound, 0 connected · 1 without an outcome"
    assert ali[1].strip() == "📵 2 missed, 1 returned · median call-back: 20 minutes · ⚠️ 1 never returned"
    await chat.click(BOSS, "7 days", message_id=report.message_id)
    assert "Calls — 7 days" in (await chat.message(BOSS, report.message_id)).text
    await chat.click(BOSS, "Report", message_id=report.message_id)
    assert "Funnel now" in (await chat.message(BOSS, report.message_id)).text
