"""Message entities: UTF-16 arithmetic, the ones Telegram detects by itself, and rendering back to HTML."""

from __future__ import annotations

import bisect
import html
import itertools
import re
from typing import Any

JSON = dict[str, Any]

DETECTED = (
    (
        "bot_command",
        re.compile(r"(?<![^\s])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z][A-Za-z0-9_]{2,31})?(?![A-Za-z0-9_@/])"),
    ),
    ("mention", re.compile(r"(?<![^\s(])@[A-Za-z][A-Za-z0-9_]{3,31}(?![A-Za-z0-9_])")),
    ("hashtag", re.compile(r"(?<![^\s(])#\w*[^\W\d]\w*")),
    ("url", re.compile(r"(?<![^\s(])https?://[^\s<>\"]+[^\s<>\".,;:!?)]")),
)
# Entity type -> (opening tag, closing tag); `{x}` are filled from the entity.
TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ("<tg-spoiler>", "</tg-spoiler>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote expandable>", "</blockquote>"),
}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _utf16_starts(text: str) -> list[int]:
    """The UTF-16 offset at which each character (and the end of the text) starts."""
    starts, position = [], 0
    for char in text:
        starts.append(position)
        position += 2 if ord(char) > 0xFFFF else 1
    starts.append(position)
    return starts


def strip_text(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Trim surrounding whitespace as Telegram does, moving and clipping the entities with it."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def detect_entities(text: str) -> list[JSON]:
    """The entities Telegram finds in a user's plain text: commands, mentions, hashtags and links."""
    starts = _utf16_starts(text)
    found = []
    for kind, pattern in DETECTED:
        for match in pattern.finditer(text):
            offset = starts[match.start()]
            found.append({"offset": offset, "length": starts[match.end()] - offset, "type": kind})
    return sorted(found, key=lambda e: e["offset"])


def _open_close(entity: JSON) -> tuple[str, str] | None:
    kind = entity.get("type")
    if kind in TAGS:
        if kind == "pre" and entity.get("language"):
            language = html.escape(str(entity["language"]))
            return f'<pre><code class="language-{language}">', "</code></pre>"
        return TAGS[kind]
    if kind == "text_link":
        return f'<a href="{html.escape(str(entity.get("url", "")))}">', "</a>"
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{html.escape(str(entity.get("custom_emoji_id", "")))}">', "</tg-emoji>"
    return None


def to_html(text: str, entities: list[JSON]) -> str:
    """Telegram-style HTML for a text and its formatting entities; the text itself is escaped."""
    starts = _utf16_starts(text)
    spans = []
    for order, entity in enumerate(entities):
        tags = _open_close(entity)
        begin = bisect.bisect_left(starts, int(entity["offset"]))
        end = bisect.bisect_left(starts, int(entity["offset"]) + int(entity["length"]))
        if tags and end > begin:
            spans.append((begin, -end, order, tags))
    spans.sort()
    cuts = sorted({0, len(text)} | {s[0] for s in spans} | {-s[1] for s in spans})
    out: list[str] = []
    stack: list[tuple[int, int, int, tuple[str, str]]] = []
    for begin, end in itertools.pairwise(cuts):
        wanted = [s for s in spans if s[0] <= begin < -s[1]]
        common = 0
        while common < min(len(stack), len(wanted)) and stack[common] == wanted[common]:
            common += 1
        out.extend(span[3][1] for span in reversed(stack[common:]))
        out.extend(span[3][0] for span in wanted[common:])
        stack = wanted
        out.append(html.escape(text[begin:end], quote=False))
    out.extend(span[3][1] for span in reversed(stack))
    return "".join(out)
