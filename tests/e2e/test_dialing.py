"""Calls placed from the chat: "📞 Call" on a card rings the seller's phone through Asterisk (a fake AMI
that answers the real ``Originate`` and plays the call it makes), and the call is ingested like any other."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from crm_core.domain.calls import CallDirection, CallStatus
from crm_core.domain.tasks import Task, TaskKind
from crm_core.domain.users import User
from crm_core.services import Crm
from telegram_emulator import Emulator
from telephony_bridge.settings import AmiSettings, DialSettings
from tests.e2e.harness import ALI, BOSS, EmulatedChat, RunningKanbot, settings_for
from tests.e2e.test_calls import post_call, said_to
from tests.support.team import Guest
from tests.telephony.ami.helpers import AMI_SECRET, AMI_USER, FakeAmi

PHONE = "+7 495 123-45-67"


@pytest.fixture
async def kanbot(
    crm: Crm, database_url: str, emulator: Emulator, runtime: str, fake_ami: FakeAmi
) -> AsyncIterator[RunningKanbot]:
    """Kanbot listening to the fake Asterisk, and placing the cards' calls through it."""
    settings = settings_for(database_url, emulator.url, runtime)
    settings.ami = AmiSettings(
        _env_file=None, ami_port=fake_ami.port, ami_username=AMI_USER, ami_secret=AMI_SECRET
    )  # type: ignore[call-arg]
    settings.dial = DialSettings(_env_file=None, dial_via="asterisk")  # type: ignore[call-arg]
    running = RunningKanbot(settings)
    await running.start()
    await fake_ami.wait_for_login(1)
    yield running
    await running.stop()


@pytest.fixture
def guests() -> tuple[Guest, ...]:
    return ()  # the team alone


async def open_card(chat: EmulatedChat, user_id: int, title: str) -> int:
    seen = {m.message_id for m in await chat.bot_messages(user_id)}
    await chat.send(user_id, f"/find {title}")

    async def found() -> bool:
        new = [m for m in await chat.bot_messages(user_id) if m.message_id not in seen]
        return any(title in label for m in new for label in m.button_texts)

    await chat.wait_until(found, what=f"{title!r} found")
    await chat.click(user_id, title)
    return (await chat.last(user_id)).message_id


async def test_call_on_the_card_rings_the_sellers_phone_then_the_customer_and_the_call_lands_on_the_deal(
    chat: EmulatedChat, crm: Crm, fake_ami: FakeAmi
) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="ACME phones", contact_name="Ivan", phone=PHONE)
    card = await open_card(chat, ALI, deal.title)
    await chat.click(ALI, "📞 Call", message_id=card)
    assert "your phone (101) rings first" in (await chat.message(ALI, card)).text
    [originate] = await fake_ami.wait_for_originate()
    assert (originate["Channel"], originate["Context"], originate["Exten"]) == (
        "PJSIP/101",
        "from-internal",
        "+74951234567",
    )

    async def on_the_deal() -> bool:
        calls = await crm.calls.of_deal(deal_id=deal.id, actor=ali)
        return any(c.is_final for c in calls)

    await chat.wait_until(on_the_deal, what="the placed call on the deal")
    [call] = await crm.calls.of_deal(deal_id=deal.id, actor=ali)
    assert (call.direction, call.status, call.answered_by_id) == (
        CallDirection.OUTBOUND,
        CallStatus.ANSWERED,
        ali.id,
    )


async def test_a_call_that_cannot_be_placed_is_said_in_the_chat(
    chat: EmulatedChat, crm: Crm, fake_ami: FakeAmi
) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="Globex PBX", phone=PHONE)
    card = await open_card(chat, BOSS, deal.title)  # Olga the boss has no extension
    await chat.click(BOSS, "📞 Call", message_id=card)
    assert "You have no phone extension yet" in (await chat.message(BOSS, card)).text
    fake_ami.refuse_originate = "Extension does not exist."
    card = await open_card(chat, ALI, deal.title)
    await chat.click(ALI, "📞 Call", message_id=card)
    notice = await said_to(chat, ALI, "The phone system refused the call.")
    assert "Cannot call +7 495 123-45-67" in notice.text
    assert not fake_ami.originated


async def a_missed_call(chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm) -> tuple[User, Task]:
    """A customer's call Ali missed, its notice in his chat: Ali and the call-back task it made."""
    await post_call(kanbot, status="missed", answered_by=None, answered_at=None, ended_at=None)
    await said_to(chat, ALI, "Missed call from")
    ali = await crm.users.identify(ALI)
    [task] = [t for t in await crm.tasks.open_tasks(actor=ali) if t.kind is TaskKind.CALL_BACK]
    return ali, task


async def done_by_the_call(chat: EmulatedChat, crm: Crm, ali: User, task: Task, *, what: str) -> None:
    """Wait until the placed call connected and so did the call-back task: the customer was reached."""

    async def called_back() -> bool:
        return all(t.id != task.id for t in await crm.tasks.open_tasks(actor=ali))

    await chat.wait_until(called_back, what=what)


async def test_call_on_a_missed_calls_notice_calls_the_customer_back_and_closes_the_call_back(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm, fake_ami: FakeAmi
) -> None:
    ali, task = await a_missed_call(chat, kanbot, crm)
    await chat.click(ALI, "📞 Call")
    [originate] = await fake_ami.wait_for_originate()
    assert (originate["Channel"], originate["Exten"]) == ("PJSIP/101", "+74951234567")
    await done_by_the_call(chat, crm, ali, task, what="the call-back task done by the placed call")


async def test_call_on_a_call_back_in_the_task_list_calls_the_customer_back_and_closes_the_task(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm, fake_ami: FakeAmi
) -> None:
    ali, task = await a_missed_call(chat, kanbot, crm)
    await chat.send(ALI, "/tasks")
    listed = await chat.last(ALI)
    assert all(len(row) <= 3 for row in listed.buttons)
    [call] = [b for row in listed.buttons for b in row if b["text"] == "📞 Call"]  # one call-back, one button
    await chat.press_data(ALI, listed.message_id, call["callback_data"])
    assert "your phone (101) rings first" in (await chat.message(ALI, listed.message_id)).text
    [originate] = await fake_ami.wait_for_originate()
    assert (originate["Channel"], originate["Exten"]) == ("PJSIP/101", "+74951234567")
    await done_by_the_call(
        chat, crm, ali, task, what="the call-back task done by the call placed from /tasks"
    )


async def test_a_task_that_is_not_a_call_back_has_no_call_button_in_the_task_list(
    chat: EmulatedChat, crm: Crm
) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="ACME phones", contact_name="Ivan", phone=PHONE)
    await crm.tasks.add(deal_id=deal.id, text="Send the offer", due_at=crm.clock.now(), actor=ali)
    await chat.send(ALI, "/tasks")
    listed = await chat.last(ALI)
    assert "Send the offer" in listed.text
    assert "📞 Call" not in listed.button_texts


async def test_call_on_a_call_back_dials_the_number_that_called_though_the_deal_has_another(
    chat: EmulatedChat, kanbot: RunningKanbot, crm: Crm, fake_ami: FakeAmi
) -> None:
    ali, task = await a_missed_call(chat, kanbot, crm)
    # The customer's office line goes on the deal; the call-back is still the mobile that called.
    await crm.deals.edit(deal_id=task.deal_id, field="phone", value="+7 495 765-43-21", actor=ali)
    await chat.send(ALI, "/tasks")
    listed = await chat.last(ALI)
    [call] = [b for row in listed.buttons for b in row if b["text"] == "📞 Call"]
    await chat.press_data(ALI, listed.message_id, call["callback_data"])
    assert "Calling +7 495 123-45-67" in (await chat.message(ALI, listed.message_id)).text
    [originate] = await fake_ami.wait_for_originate()
    assert (originate["Channel"], originate["Exten"]) == ("PJSIP/101", "+74951234567")
    await done_by_the_call(chat, crm, ali, task, what="the call-back task done by the call to its number")
