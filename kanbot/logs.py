"""Logging: readable lines by default, JSON lines on request; secrets and full phone numbers never shown."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

# A bot token (digits:secret, also inside a Bot API URL: /bot<token>/) and phone-like digit runs of
# 7 or more are masked in every record; a date such as 2026-03-02 (before a time) is not a phone.
_TOKEN = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{20,}\b")
_PHONE = re.compile(r"(?<![\w.])(?!(?:19|20)\d\d-[01]\d-[0-3]\d(?!\d))\+?\d[\d\s()-]{5,}\d(?![\w.])")
_SECRETS: list[str] = []


def redact(text: str) -> str:
    for secret in _SECRETS:
        text = text.replace(secret, "***")
    text = _TOKEN.sub("***:***", text)
    return _PHONE.sub(lambda m: _mask_digits(m.group(0)), text)


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
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # apscheduler says "Running job ... executed successfully" at INFO on every tick
    for noisy in ("aiohttp.access", "aiogram.event", "alembic.runtime.migration", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
