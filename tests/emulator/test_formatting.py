"""Texts and parse_mode=HTML are checked and turned into entities as Telegram does."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from telegram_emulator.entities import to_html
from telegram_emulator.html_parse import HtmlError, parse_html
from tests.emulator.support import ANN, Telegram


async def test_html_becomes_plain_text_and_entities_with_utf16_offsets(tg: Telegram, ann: int) -> None:
    sent = await tg.ok(
        "sendMessage",
        chat_id=ANN,
        parse_mode="HTML",
        text='😀 <b>Deal <i>ACME</i></b> &amp; <a href="https://example.com/d/1">card</a>',
    )
    assert sent["text"] == "😀 Deal ACME & card"
    assert sent["entities"] == [
        {"offset": 3, "length": 9, "type": "bold"},  # the emoji is two UTF-16 code units
        {"offset": 8, "length": 4, "type": "italic"},
        {"offset": 15, "length": 4, "type": "text_link", "url": "https://example.com/d/1"},
    ]


@pytest.mark.parametrize(
    ("html", "text", "entity"),
    [
        ("<strong>x</strong>", "x", {"type": "bold"}),
        ("<em>x</em>", "x", {"type": "italic"}),
        ("<ins>x</ins>", "x", {"type": "underline"}),
        ("<del>x</del>", "x", {"type": "strikethrough"}),
        ('<span class="tg-spoiler">x</span>', "x", {"type": "spoiler"}),
        ("<tg-spoiler>x</tg-spoiler>", "x", {"type": "spoiler"}),
        ("<code>x</code>", "x", {"type": "code"}),
        ('<pre><code class="language-python">x</code></pre>', "x", {"type": "pre", "language": "python"}),
        ("<blockquote>x</blockquote>", "x", {"type": "blockquote"}),
        ("<blockquote expandable>x</blockquote>", "x", {"type": "expandable_blockquote"}),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍", {"type": "custom_emoji"}),
    ],
)
def test_each_of_telegrams_tags_gives_its_entity(html: str, text: str, entity: dict[str, str]) -> None:
    parsed_text, [parsed] = parse_html(html)
    assert parsed_text == text
    assert entity.items() <= parsed.items()


@pytest.mark.parametrize(
    ("html", "description"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a <br> b", 'Unsupported start tag "br" at byte offset 2'),
        ("Сумма <100 €", 'Unsupported start tag "100" at byte offset 11'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
async def test_malformed_html_is_refused_with_cant_parse_entities(
    tg: Telegram, ann: int, html: str, description: str
) -> None:
    assert await tg.error("sendMessage", chat_id=ANN, parse_mode="HTML", text=html) == (
        400,
        f"Bad Request: can't parse entities: {description}",
    )


def test_only_four_named_entities_are_decoded_and_others_stay_literal_as_on_telegram() -> None:
    assert parse_html("&lt;&gt;&amp;&quot; &#8364; &#x20AC; &nbsp;")[0] == '<>&" € € &nbsp;'


async def test_aiogram_raises_telegram_bad_request_for_unbalanced_html(aiogram_bot: Bot, ann: int) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await aiogram_bot.send_message(ANN, "<b>Deal <i>ACME</b></i>", parse_mode="HTML")


async def test_a_message_of_4096_characters_is_sent_and_4097_is_too_long(tg: Telegram, ann: int) -> None:
    await tg.ok("sendMessage", chat_id=ANN, text="я" * 4096)
    assert await tg.error("sendMessage", chat_id=ANN, text="я" * 4097) == (
        400,
        "Bad Request: message is too long",
    )


async def test_the_length_limit_counts_the_text_after_html_parsing(tg: Telegram, ann: int) -> None:
    await tg.ok("sendMessage", chat_id=ANN, parse_mode="HTML", text=f"<b>{'x' * 4096}</b>")


async def test_an_empty_or_blank_text_is_refused(tg: Telegram, ann: int) -> None:
    for text in ("", "   \n ", "<b> </b>"):
        description = await tg.error("sendMessage", chat_id=ANN, text=text, parse_mode="HTML")
        assert description == (400, "Bad Request: message text is empty")


async def test_surrounding_whitespace_is_trimmed_and_entities_follow(tg: Telegram, ann: int) -> None:
    sent = await tg.ok("sendMessage", chat_id=ANN, parse_mode="HTML", text="\n  <b>Hi</b>  \n")
    assert (sent["text"], sent["entities"]) == ("Hi", [{"offset": 0, "length": 2, "type": "bold"}])


async def test_a_caption_over_1024_characters_is_refused(tg: Telegram, ann: int) -> None:
    status, description = await tg.error("sendDocument", chat_id=ANN, document="x", caption="c" * 1025)
    assert (status, description) == (400, "Bad Request: message caption is too long")


async def test_markdown_parse_modes_are_refused_clearly(tg: Telegram, ann: int) -> None:
    status, description = await tg.error("sendMessage", chat_id=ANN, text="*bold*", parse_mode="MarkdownV2")
    assert status == 400
    assert description.startswith("Bad Request: can't parse entities: parse_mode MarkdownV2 is not emulated")


async def test_entities_given_explicitly_are_kept_as_sent(tg: Telegram, ann: int) -> None:
    entities = [{"type": "bold", "offset": 0, "length": 4}]
    sent = await tg.ok("sendMessage", chat_id=ANN, text="Deal won", entities=entities)
    assert sent["entities"] == entities
    assert (await tg.last(ANN))["html"] == "<b>Deal</b> won"


def test_the_page_html_is_rebuilt_from_entities_and_escapes_the_text() -> None:
    text, entities = parse_html("<b>a &lt;script&gt; <i>b</i></b>")
    assert to_html(text, entities) == "<b>a &lt;script&gt; <i>b</i></b>"


def test_overlapping_entities_render_as_valid_nesting() -> None:
    overlapping = [{"type": "bold", "offset": 0, "length": 3}, {"type": "italic", "offset": 2, "length": 3}]
    assert to_html("abcde", overlapping) == "<b>ab<i>c</i></b><i>de</i>"


def test_a_link_without_href_takes_its_text_as_the_url() -> None:
    assert parse_html("<a>https://example.com</a>")[1] == [
        {"offset": 0, "length": 19, "type": "text_link", "url": "https://example.com"}
    ]


def test_a_custom_emoji_needs_a_numeric_id() -> None:
    with pytest.raises(HtmlError, match="Invalid custom emoji identifier specified"):
        parse_html('<tg-emoji emoji-id="abc">👍</tg-emoji>')
