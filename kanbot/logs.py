"""Logging: readable lines by default, JSON lines on request; secrets and full phone numbers never shown.

What a log line says may come from anyone (a URL path, a call id, a Telegram name), so every record
goes through the same two steps, in both formats, tracebacks and stack traces included: secrets and
phone numbers are masked, then control characters (line breaks, the escape of a terminal colour...) are
written as escapes. A record is one line; in the text format a traceback follows on lines that each
start with "  | ", so nothing a sender writes can pass for a record of its own.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import IO

# A bot token (digits:secret, also inside a Bot API URL: /bot<token>/) and phone-like digit runs of
# 7 or more are masked in every record; a date such as 2026-03-02 (before a time) is not a phone.
_TOKEN = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{20,}\b")
_PHONE = re.compile(r"(?<![\w.])(?!(?:19|20)\d\d-[01]\d-[0-3]\d(?!\d))\+?\d[\d\s()-]{5,}\d(?![\w.])")
_SECRETS: list[str] = []
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators some viewers break lines at.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
CONTINUATION = "  | "


def redact(text: str) -> str:
    for secret in _SECRETS:
        text = text.replace(secret, "***")
    text = _TOKEN.sub("***:***", text)
    return _PHONE.sub(lambda m: _mask_digits(m.group(0)), text)


def escape_controls(text: str) -> str:
    """``text`` on one line: each control character written as its escape (``\\n``, ``\\x1b``...)."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def clean(text: str) -> str:
    """A value fit for a log line: secrets and phones masked, then control characters escaped."""
    return escape_controls(redact(text))


def _clean_lines(text: str) -> list[str]:
    """A traceback's lines, each cleaned (masked across line breaks first: a number may span two)."""
    return [escape_controls(line) for line in redact(text).rstrip("\n").split("\n")]


def _mask_digits(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    if len(digits) < 7:
        return text
    return "*" * (len(digits) - 4) + digits[-4:]


def add_secret(value: str | None) -> None:
    """Make sure ``value`` never appears in a log line (tokens, webhook and PBX secrets)."""
    if value and len(value) >= 4 and value not in _SECRETS:
        _SECRETS.append(value)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = clean(record.getMessage())
        record.args = ()
        return True


class TextFormatter(logging.Formatter):
    """``time level logger: message``; a traceback or stack below it, on "  | " lines, cleaned too."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = clean(record.getMessage())
        record.asctime = self.formatTime(record, self.datefmt)
        lines = [self.formatMessage(record)]
        for block in _blocks(self, record):
            lines.extend(CONTINUATION + line for line in _clean_lines(block))
        return "\n".join(lines)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": clean(record.getMessage()),
        }
        if record.exc_info or record.exc_text:
            entry["error"] = "\n".join(_clean_lines(_exception(self, record)))
        if record.stack_info:
            entry["stack"] = "\n".join(_clean_lines(self.formatStack(record.stack_info)))
        return json.dumps(entry, ensure_ascii=False)


def _exception(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    # Formatted here rather than taken from ``exc_text``, which another handler may have filled its own way.
    if record.exc_info:
        return formatter.formatException(record.exc_info)
    return record.exc_text or ""


def _blocks(formatter: logging.Formatter, record: logging.LogRecord) -> list[str]:
    blocks = []
    if record.exc_info or record.exc_text:
        blocks.append(_exception(formatter, record))
    if record.stack_info:
        blocks.append(formatter.formatStack(record.stack_info))
    return [b for b in blocks if b]


def setup_logging(level: str = "INFO", fmt: str = "text", stream: IO[str] | None = None) -> None:
    """Log to ``stream`` (standard error by default) in ``fmt``: "text" lines or "json" lines."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # apscheduler says "Running job ... executed successfully" at INFO on every tick
    for noisy in ("aiohttp.access", "aiogram.event", "alembic.runtime.migration", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
