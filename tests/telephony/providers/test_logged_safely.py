"""What the call endpoints log, as an operator reads it: no full phone number, even in a traceback, and
nothing a sender puts in a path or a call id can break a line or colour the terminal."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from telephony_bridge.signing import sign

from .conftest import CALLS_SECRET, NOW, FakeIngest, data

# What a database error carries in its text: the statement and its parameters, the caller's number too.
DATABASE_ERROR = (
    "(sqlite3.IntegrityError) UNIQUE constraint failed: contacts.phone\n"
    "[SQL: INSERT INTO contacts (name, phone) VALUES (?, ?)]\n"
    "[parameters: ('Ivan', '+79161234567')]"
)


@pytest.fixture(params=["text", "json"])
def logs(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """What Kanbot's logging writes, in each format, while the test runs."""
    from kanbot.logs import setup_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    output = io.StringIO()
    setup_logging("INFO", request.param, stream=output)
    try:
        yield output
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


def records(output: io.StringIO) -> list[str]:
    """Each record as an operator reads it: a JSON line's message, or a text line (and the "  | " lines
    of its traceback)."""
    found: list[str] = []
    for line in output.getvalue().splitlines():
        if line.startswith("{"):
            found.append(json.loads(line)["message"])
        elif line.startswith("  | ") and found:
            found[-1] += "\n" + line
        else:
            found.append(line)
    return found


async def post_generic(client: TestClient[Any, Any], **changes: Any) -> int:
    body = json.dumps({**json.loads(data("generic/inbound_missed.json")), **changes}).encode()
    headers = {"X-Kanbot-Signature": sign(body, CALLS_SECRET, timestamp=int(NOW))}
    return (await client.post("/api/v1/calls", data=body, headers=headers)).status


async def test_a_traceback_with_a_phone_number_in_it_is_logged_masked(
    client: TestClient[Any, Any], ingest: FakeIngest, logs: io.StringIO
) -> None:
    ingest.failure = RuntimeError(DATABASE_ERROR)
    assert await post_generic(client) == 503
    output = logs.getvalue()
    assert "Traceback" in output and "*******4567" in output, output
    for shown in ("79161234567", "916123"):
        assert shown not in output


async def test_control_characters_in_an_unauthenticated_path_are_logged_escaped(
    client: TestClient[Any, Any], logs: io.StringIO
) -> None:
    path = URL("/hooks/mango/events%0D12:00:00%20INFO%20forged%1B%5B31mred", encoded=True)
    response = await client.post(path, data=b"vpbx_api_key=x&sign=y&json=%7B%7D")
    assert response.status == 401
    [record] = [r for r in records(logs) if "Refused a Mango Office webhook" in r]
    assert "\r" not in record and "\x1b" not in record and "\n" not in record
    assert "events\\r12:00:00 INFO forged\\x1b[31mred" in record


async def test_a_line_break_in_a_signed_call_id_is_logged_escaped(
    client: TestClient[Any, Any], ingest: FakeIngest, logs: io.StringIO
) -> None:
    assert await post_generic(client, call_id="42\n12:00:00 INFO  forged: deal 1 won") == 202
    [record] = [r for r in records(logs) if "Ingested" in r]
    assert "\n" not in record
    assert "call 42\\n12:00:00 INFO  forged: deal 1 won from" in record
    assert len(logs.getvalue().splitlines()) == len(records(logs))


def test_every_control_character_is_escaped_so_a_record_stays_one_line(logs: io.StringIO) -> None:
    controls = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]))
    logging.getLogger("kanbot.test").warning("name %s end", controls)
    [line] = logs.getvalue().splitlines()  # splitlines breaks at \x1c-\x1e, \x85, \u2028 too
    [record] = records(logs)
    assert "name \\x00\\x01\\x02" in record and record.endswith("\\u2028\\u2029 end")
    assert "\\n" in record and "\\x1b" in record and "\\x85" in record and "\\u2028" in record
    assert not any(c in line for c in controls)


def caller_of(number: str) -> None:
    logging.getLogger("kanbot.test").info("looked up", stack_info=True)


def test_a_stack_with_a_phone_number_in_it_is_logged_masked(logs: io.StringIO) -> None:
    caller_of("+7 916 123-45-67")  # the stack shows this line
    output = logs.getvalue()
    assert "Stack" in output and 'caller_of("*******4567")' in output.replace('\\"', '"')


def test_a_traceback_another_handler_formatted_first_is_still_masked(logs: io.StringIO) -> None:
    seen = logging.Handler()  # pytest's own capture, say: it formats first, and caches the text
    seen.emit = lambda record: logging.Formatter().format(record)  # type: ignore[method-assign]
    logging.getLogger().handlers.insert(0, seen)
    try:
        raise RuntimeError(DATABASE_ERROR)
    except RuntimeError:
        logging.getLogger("kanbot.test").exception("failed")
    finally:
        logging.getLogger().removeHandler(seen)
    assert "*******4567" in logs.getvalue() and "79161234567" not in logs.getvalue()
