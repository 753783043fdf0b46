"""Button data at the edges of the input space, as a modified client forges it: numbers past what the
database stores, and a snooze to year 9999. Each press is answered in words, never with "something went
wrong", and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core import actions, codec
from bot.core.dialogs import SnoozeDraft
from crm_core.domain.deals import Deal
from crm_core.services import Crm
from tests.e2e.harness import ALI, BOSS, EmulatedChat, b36

KINDS = {action.code: action.kinds for action in actions.ACTIONS}  # code -> its fields' kinds, "i" or "s"
NUMBERED = sorted(act for act, kinds in KINDS.items() if "i" in kinds)
# a token each action takes, so that the press reaches the numbers
TOKENS = {
    "rm": "1h",
    "ed": "title",
    "pr": "high",
    "sz": "1d",
    "tsz": "1h",
    "tdn": "l",
    "col": "n",
    "rp": "30d",
}


def forged(act: str, at: int, number: int, deal: Deal) -> str:
    """``act`` with ``number`` as its argument ``at``; its other numbers the deal's id and version."""
    parts, plain = [], iter([deal.id, deal.version, 0])
    for index, kind in enumerate(KINDS[act]):
        if kind == "s":
            parts.append(TOKENS.get(act, "x"))
        else:
            parts.append(b36(number if index == at else next(plain)))
    return codec.VERSION + act + "".join(":" + p for p in parts)


def every_number(deal: Deal, *values: int) -> list[str]:
    """Each numbered action with each of ``values`` in each of its number positions in turn."""
    return [
        forged(act, at, value, deal)
        for act in NUMBERED
        for at, kind in enumerate(KINDS[act])
        if kind == "i"
        for value in values
    ]


async def alis_deal(crm: Crm) -> Deal:
    return await crm.deals.create(actor=await crm.users.identify(ALI), title="Chiller", amount="9000")


async def press_all(chat: EmulatedChat, user: int, presses: list[str]) -> dict[str, str]:
    await chat.send(user, "/lang en")
    message_id = (await chat.last(user)).message_id
    answers = {}
    for data in presses:
        answers[data] = await chat.told(user, await chat.press_data(user, message_id, data))
    return answers


async def test_numbers_past_the_databases_ids_are_refused_as_a_button_that_no_longer_works(
    chat: EmulatedChat, crm: Crm
) -> None:
    deal = await alis_deal(crm)
    answers = await press_all(chat, BOSS, every_number(deal, 2**63, 36**13 - 1))
    wrong = {data: text for data, text in answers.items() if "no longer works" not in text}
    assert wrong == {}
    assert await crm.deals.history(deal_id=deal.id, actor=await crm.users.identify(BOSS)) != []
    assert (await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(ALI))).version == deal.version
    assert await chat.refusals() == []


async def test_numbers_the_codec_takes_but_no_row_has_are_refused_in_words(
    chat: EmulatedChat, crm: Crm
) -> None:
    # INTEGER ids are 32-bit on PostgreSQL, Telegram ids 64-bit: the biggest number of each
    deal = await alis_deal(crm)
    answers = await press_all(chat, BOSS, every_number(deal, 2**31, 2**63 - 1))
    broken = {data: text for data, text in answers.items() if "went wrong" in text}
    assert broken == {}
    now = await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(ALI))
    assert (now.version, now.snoozed_until, now.stage.name) == (deal.version, None, "Unsorted")


async def test_a_forged_snooze_to_the_year_9999_is_refused_and_the_deal_stays_awake(
    chat: EmulatedChat, crm: Crm
) -> None:
    # The snooze's "No reason" carries only its question's draft: a time travels in a button only as
    # the next-year date offered for a day that has passed, forged here onto a real question's draft.
    deal = await alis_deal(crm)
    await chat.send(ALI, "/lang en")
    message_id = (await chat.last(ALI)).message_id
    asked = await crm.dialogs.put(
        ALI, SnoozeDraft(deal_id=deal.id, version=deal.version, message_id=0), step="date"
    )
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    minutes = int((datetime(9999, 12, 31, tzinfo=UTC) - epoch).total_seconds() // 60)
    for offered in (minutes, 2**62):
        answer = await chat.answer(
            await chat.press_data(ALI, message_id, f"1wa:{b36(offered)}:{b36(asked.draft)}")
        )
        assert answer is not None and answer["text"] == "That time doesn't work: it is too far ahead."
    now = await crm.deals.get(deal_id=deal.id, actor=await crm.users.identify(ALI))
    assert (now.snoozed_until, now.version) == (None, deal.version)
