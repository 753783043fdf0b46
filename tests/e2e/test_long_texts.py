"""Long and tricky texts: stored as typed, shown escaped, and never refused by Telegram."""

from __future__ import annotations

from crm_core.domain.history import EventKind
from crm_core.services import Crm
from tests.e2e.harness import ALI, EmulatedChat, visible

TRICKY = "<b>&amp;</b> <i>not bold</i> &lt; 5 > 3 & <a href='x'>link</a> «مرحبا بالعالم» 🚀👨‍👩‍👧‍👦🇸🇦 "


def long_note() -> str:
    text = (TRICKY * 40)[:2999] + "🔥"
    assert len(text) == 3000
    return text


async def test_a_3000_character_note_with_html_arabic_and_emoji_is_kept_and_shown(
    chat: EmulatedChat, crm: Crm
) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="<b>Bold</b> & «العربية» 🚀", amount="1000")
    await chat.send(ALI, "/find Bold")
    await chat.click(ALI, "<b>Bold</b>")
    card = await chat.last(ALI)
    assert visible(card.text).startswith(
        "<b>Bold</b> & «العربية» 🚀"
    )  # the user's tags are text, not formatting
    note = long_note()
    for _ in range(3):
        await chat.click(ALI, "Note", message_id=card.message_id)
        await chat.send(ALI, note)
        assert "Note saved" in (await chat.last(ALI)).text
    events = await crm.deals.history(deal_id=deal.id, actor=ali)
    notes = [e.data["text"] for e in events if e.kind is EventKind.NOTE]
    assert notes == [note] * 3
    await chat.click(ALI, "⋯ More", message_id=card.message_id)
    await chat.click(ALI, "History")
    history = await chat.last(ALI)
    assert history.text.count("📝 <b>&amp;</b> <i>not bold</i>") == 3
    assert "مرحبا بالعالم" in history.text
    assert await chat.refusals() == []


async def test_a_200_character_title_of_tricky_text_shows_everywhere(chat: EmulatedChat, crm: Crm) -> None:
    title = (TRICKY * 5)[:200]
    await chat.send(ALI, "/new")
    await chat.send(ALI, title)
    for _ in range(3):
        await chat.click(ALI, "Skip")
    await chat.click(ALI, "Create")
    assert title.strip() in (await chat.last(ALI)).text
    await chat.send(ALI, "/deals")
    await chat.click(ALI, "<b>&amp;</b>")
    await chat.click(ALI, "⋯ More")
    await chat.click(ALI, "History")
    await chat.send(ALI, "/board")
    await chat.click(ALI, "Unsorted")
    assert any(visible(t).startswith("<b>&amp;</b>") for t in (await chat.last(ALI)).button_texts)
    [deal] = await crm.deals.list_deals(actor=await crm.users.identify(ALI))
    assert deal.title == title.strip()
    assert await chat.refusals() == []


async def test_an_over_long_note_is_refused_with_the_reason(chat: EmulatedChat, crm: Crm) -> None:
    ali = await crm.users.identify(ALI)
    deal = await crm.deals.create(actor=ali, title="Chatty customer")
    await chat.send(ALI, "/find Chatty")
    await chat.click(ALI, "Chatty customer")
    await chat.click(ALI, "Note")
    await chat.send(ALI, "x" * 3500)
    assert "at most 3000 characters" in (await chat.last(ALI)).text
    assert [e.kind for e in await crm.deals.history(deal_id=deal.id, actor=ali)] == [EventKind.CREATED]
    assert await chat.refusals() == []
