"""Telegram's `parse_mode=HTML`: the plain text and the entities, or Telegram's refusal.

It follows the rules of Telegram's own parser (tdlib): only Telegram's tags, balanced; only the named
entities &lt; &gt; &amp; &quot; and numeric ones are decoded (any other `&name;` stays literal text, as on
Telegram); errors name the UTF-8 byte offset of the offending tag. Entity offsets and lengths are in
UTF-16 code units.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from telegram_emulator.entities import utf16_len
from telegram_emulator.models import JSON

SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
ALLOWED_TAGS = {*SIMPLE_TAGS, "a", "span", "tg-emoji", "blockquote"}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
UNQUOTED_VALUE = re.compile(r"[A-Za-z0-9.\-]*")
NUMERIC_ENTITY = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")
NAMED_ENTITY = re.compile(r"&([A-Za-z]+);?")


class HtmlError(ValueError):
    """The text after "Bad Request: can't parse entities: "."""


@dataclass
class _Open:
    tag: str
    attrs: dict[str, str]
    offset: int
    chars: int


class _Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.length = 0  # UTF-16 units written so far
        self.chars = 0  # Python characters written so far
        self.stack: list[_Open] = []
        self.entities: list[JSON] = []

    def byte_offset(self, pos: int) -> int:
        return len(self.src[:pos].encode("utf-8"))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.length += utf16_len(text)
        self.chars += len(text)

    def run(self) -> tuple[str, list[JSON]]:
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == "&" and (decoded := self.entity()) is not None:
                self.emit(decoded)
            elif char == "<":
                self.tag()
            else:
                self.emit(char)
                self.pos += 1
        if self.stack:
            raise HtmlError(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def entity(self) -> str | None:
        """Decode the entity at `pos` and move past it, or leave it literal."""
        numeric = NUMERIC_ENTITY.match(self.src, self.pos)
        if numeric:
            code = int(numeric[1], 16) if numeric[1] else int(numeric[2])
            if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                return None
            self.pos = numeric.end()
            return chr(code)
        named = NAMED_ENTITY.match(self.src, self.pos)
        if named and named[1] in NAMED_ENTITIES:
            self.pos = named.end()
            return NAMED_ENTITIES[named[1]]
        return None

    def tag(self) -> None:
        start = self.pos
        self.pos += 1
        if self.pos < len(self.src) and self.src[self.pos] == "/":
            self.end_tag(start)
        else:
            self.start_tag(start)

    def read_while(self, stop: str) -> str:
        begin = self.pos
        while (
            self.pos < len(self.src) and not self.src[self.pos].isspace() and self.src[self.pos] not in stop
        ):
            self.pos += 1
        return self.src[begin : self.pos]

    def skip_spaces(self) -> None:
        while self.pos < len(self.src) and self.src[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        return self.pos >= len(self.src)

    def start_tag(self, start: int) -> None:
        name = self.read_while(">").lower()
        where = f"at byte offset {self.byte_offset(start)}"
        if self.at_end():
            raise HtmlError(f"Unclosed start tag {where}")
        if name not in ALLOWED_TAGS:
            raise HtmlError(f'Unsupported start tag "{name}" {where}')
        attrs = self.attributes(name, start)
        self.pos += 1  # the closing ">"
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlError(f'Tag "span" must have class "tg-spoiler" {where}')
        self.stack.append(_Open(name, attrs, self.length, self.chars))

    def attributes(self, tag: str, start: int) -> dict[str, str]:
        attrs: dict[str, str] = {}
        while True:
            self.skip_spaces()
            if self.at_end():
                raise HtmlError(f'Unclosed start tag "{tag}" at byte offset {self.byte_offset(start)}')
            if self.src[self.pos] == ">":
                return attrs
            name = self.read_while("=>/\"'").lower()
            if not name:
                raise HtmlError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {self.byte_offset(start)}'
                )
            self.skip_spaces()
            if self.at_end() or self.src[self.pos] != "=":
                attrs[name] = ""
                continue
            self.pos += 1
            self.skip_spaces()
            if self.at_end():
                raise HtmlError(f'Unclosed start tag "{tag}" at byte offset {self.byte_offset(start)}')
            attrs[name] = self.attribute_value(start)

    def attribute_value(self, start: int) -> str:
        quote = self.src[self.pos]
        if quote not in "\"'":
            token = UNQUOTED_VALUE.match(self.src, self.pos)
            assert token is not None  # the pattern matches the empty string
            self.pos = token.end()
            if not self.at_end() and not self.src[self.pos].isspace() and self.src[self.pos] != ">":
                raise HtmlError(
                    f"Unexpected end of name token at byte offset {self.byte_offset(token.start())}"
                )
            return token[0].lower()
        end = self.src.find(quote, self.pos + 1)
        if end < 0:
            raise HtmlError(f"Unclosed start tag at byte offset {self.byte_offset(start)}")
        raw = self.src[self.pos + 1 : end]
        self.pos = end + 1
        return html.unescape(raw) if "&" in raw else raw

    def end_tag(self, start: int) -> None:
        where = f"at byte offset {self.byte_offset(start)}"
        if not self.stack:
            raise HtmlError(f"Unexpected end tag {where}")
        self.pos += 1  # the "/"
        name = self.read_while(">").lower()
        self.skip_spaces()
        if self.at_end() or self.src[self.pos] != ">":
            raise HtmlError(f"Unclosed end tag {where}")
        self.pos += 1
        opened = self.stack.pop()
        if name and name != opened.tag:
            raise HtmlError(f'Unmatched end tag {where}, expected "</{opened.tag}>", found "</{name}>"')
        if self.length > opened.offset:
            self.add_entity(opened)

    def add_entity(self, opened: _Open) -> None:
        entity: JSON = {"offset": opened.offset, "length": self.length - opened.offset}
        tag, attrs = opened.tag, opened.attrs
        if tag in SIMPLE_TAGS or tag == "span":
            entity["type"] = SIMPLE_TAGS.get(tag, "spoiler")
        elif tag == "blockquote":
            entity["type"] = "expandable_blockquote" if "expandable" in attrs else "blockquote"
        elif tag == "tg-emoji":
            if not attrs.get("emoji-id", "").isdigit():
                raise HtmlError("Invalid custom emoji identifier specified")
            entity |= {"type": "custom_emoji", "custom_emoji_id": attrs["emoji-id"]}
        else:  # "a"
            url = attrs.get("href") or "".join(self.out)[opened.chars :]
            if not _is_link(url):
                return
            entity |= {"type": "text_link", "url": url}
        self.merge_pre_and_code(entity, attrs)

    def merge_pre_and_code(self, entity: JSON, attrs: dict[str, str]) -> None:
        """`<pre><code class="language-x">` is one pre entity with a language, as on Telegram."""
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last["offset"], last["length"]) == (
            entity["offset"],
            entity["length"],
        )
        if entity["type"] == "pre" and same_span and last is not None and last["type"] == "code":
            language = last.pop("_language", None)
            last.update({"type": "pre"} | ({"language": language} if language else {}))
            return
        language = attrs.get("class", "")
        if entity["type"] == "code" and language.startswith("language-") and len(language) > len("language-"):
            entity["_language"] = language.removeprefix("language-")
        self.entities.append(entity)


def _is_link(url: str) -> bool:
    return re.match(r"(https?|tg|ton|mailto)://?\S+$", url, re.IGNORECASE) is not None


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Return the text and its entities, or raise HtmlError with Telegram's explanation."""
    text, entities = _Parser(source).run()
    for entity in entities:
        entity.pop("_language", None)
    return text, entities
