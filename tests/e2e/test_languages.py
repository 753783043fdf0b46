"""Languages: /lang switches every screen; Telegram's language is followed until the user picks one.

The expected words come from the catalogs (``Tr``), so a better translation does not break a test;
each screen must also be in the language's script, so an untranslated screen fails.
"""

from __future__ import annotations

import re

from bot.core.i18n import Tr
from crm_core.services import Crm
from tests.e2e.harness import ALI, MARIA, EmulatedChat

SCRIPT = {"ru": re.compile("[а-яё]", re.IGNORECASE), "ar": re.compile("[\u0600-\u06ff]")}


def translated(locale: str, *words: str) -> list[str]:
    """The catalog's words for ``words``, only those it translates (at least one must be)."""
    tr = Tr(locale)
    found = [str(tr(w)) for w in words if str(tr(w)) != w]
    assert found, f"the {locale} catalog translates none of {words}"
    return found


def assert_in_language(locale: str, text: str, *words: str) -> None:
    assert SCRIPT[locale].search(text), f"not in {locale}: {text!r}"
    for word in translated(locale, *words):
        assert word in text, f"{word!r} missing from {text!r}"


async def deal_for_ali(crm: Crm) -> None:
    ali = await crm.users.identify(ALI)
    await crm.deals.create(actor=ali, title="Boiler", amount="1000", stage="Opportunity")


async def check_screens(chat: EmulatedChat, locale: str) -> None:
    """The menu, the board, a column and a card, all in ``locale``."""
    keyboard = " ".join(await chat.keyboard(ALI))
    assert_in_language(locale, keyboard, "My deals", "New deal", "Board", "Tasks")
    board_label = next(label for label in await chat.keyboard(ALI) if label.startswith("📊"))
    await chat.send(ALI, board_label)  # the translated menu button works as the command
    board = await chat.last(ALI)
    assert_in_language(locale, board.text + " ".join(board.button_texts), "Board", "Opportunity", "Unsorted")
    opportunity = Tr(locale)("Opportunity")
    await chat.click(ALI, opportunity)
    await chat.click(ALI, "Boiler")
    card = await chat.last(ALI)
    assert_in_language(
        locale,
        card.text + " ".join(card.button_texts),
        "Opportunity",
        "Won",
        "Lost",
        "More",
        "Find the need, the budget and who decides",
    )
    await chat.click(ALI, "⋯", message_id=card.message_id)
    more = await chat.message(ALI, card.message_id)
    assert_in_language(locale, " ".join(more.button_texts), "Move to…", "History", "Back")


async def test_lang_ru_gives_russian_screens(chat: EmulatedChat, crm: Crm) -> None:
    await deal_for_ali(crm)
    await chat.send(ALI, "/lang ru")
    assert_in_language("ru", (await chat.last(ALI)).text, "Language: English")
    await check_screens(chat, "ru")
    user = await crm.users.by_telegram_id(ALI)
    assert user is not None and user.locale == "ru"


async def test_lang_ar_gives_arabic_screens(chat: EmulatedChat, crm: Crm) -> None:
    await deal_for_ali(crm)
    await chat.send(ALI, "/lang")
    picker = await chat.last(ALI)
    await chat.click(ALI, "العربية")
    chosen = await chat.message(ALI, picker.message_id)  # the picker itself shows the choice
    assert chosen.edited and "• العربية" in chosen.button_texts
    assert_in_language("ar", chosen.text, "Language: English")
    assert [m for m in await chat.bot_messages(ALI) if "Choose your language" in m.text] == []
    await check_screens(chat, "ar")
    assert await chat.refusals() == []


async def test_telegrams_language_is_followed_until_the_user_picks_one(chat: EmulatedChat, crm: Crm) -> None:
    await chat.send(MARIA, "/start")  # her Telegram is in Russian
    hint = "Use the menu below, or type a name or a phone number to find a deal."
    assert_in_language("ru", (await chat.last(MARIA)).text, hint)
    await chat.user(MARIA, "Maria", "ar")  # she switched her Telegram app to Arabic
    await chat.send(MARIA, "/start")
    assert_in_language("ar", (await chat.last(MARIA)).text, hint)
    await chat.send(MARIA, "/lang en")
    assert "Language: English" in (await chat.last(MARIA)).text
    await chat.user(MARIA, "Maria", "ru")  # the app's language no longer decides
    await chat.send(MARIA, "/start")
    greeting = (await chat.last(MARIA)).text
    assert "Hi, Maria" in greeting and not SCRIPT["ru"].search(greeting)
    maria = await crm.users.by_telegram_id(MARIA)
    assert maria is not None and maria.locale == "en"


async def test_an_arabic_card_isolates_its_phone_and_amount_and_reads_right_to_left(
    chat: EmulatedChat, crm: Crm
) -> None:
    ali = await crm.users.identify(ALI)
    await crm.deals.create(
        actor=ali,
        title="ACME phones",
        contact_name="Ivan",
        phone="+74951234567",
        amount="22151",
        currency="USD",
    )
    await chat.send(ALI, "/lang ar")
    await chat.send(ALI, "ACME")
    await chat.click(ALI, "ACME")
    card = await chat.last(ALI)
    assert "\u2066+7 495 123-45-67\u2069" in card.text  # the digit groups stay in their order
    assert "\u206722,151\u00a0$\u2069" in card.text  # the amount stays whole, its symbol beside it
    assert "\u2068ACME phones\u2069" in card.text
    assert all(line.startswith("\u200f") for line in card.text.split("\n") if line)


async def test_an_english_card_stays_left_to_right_whatever_the_deals_title(
    chat: EmulatedChat, crm: Crm
) -> None:
    ali = await crm.users.identify(ALI)
    await crm.deals.create(actor=ali, title="غلاية للمصنع", amount="1000", stage="Opportunity")
    await chat.send(ALI, "غلاية")
    await chat.click(ALI, "غلاية")
    card = await chat.last(ALI)
    first = card.text.split("\n")[0]
    assert "غلاية" in first and first.startswith("\u200e")


async def test_find_without_words_asks_for_them_and_searches_the_next_message(
    chat: EmulatedChat, crm: Crm
) -> None:
    await deal_for_ali(crm)
    await chat.send(ALI, "/find")
    assert "What should I look for?" in (await chat.last(ALI)).text
    await chat.send(ALI, "Boi")
    found = await chat.last(ALI)
    assert "Found for «Boi»" in found.text and any("Boiler" in t for t in found.button_texts)
    await chat.send(ALI, "Boiler")  # the question is over: a search again, as any typed text
    assert "Boiler" in " ".join((await chat.last(ALI)).button_texts)
