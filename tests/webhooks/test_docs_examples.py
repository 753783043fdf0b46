"""docs/webhooks.md's examples, run: its Python verifier accepts what Kanbot signs and refuses the rest,
and its curl test, sent as written to a real receiver, is taken and verifies. The doc cannot rot."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from telephony_bridge.signing import HEADER, sign, verify
from tests.webhooks.receiver import Receiver

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
SECRET = "whsec_docs_example_secret_01"


def block(language: str) -> str:
    [found] = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    return str(found)


def doc_verifier() -> Callable[..., bool]:
    scope: dict[str, Any] = {}
    exec(block("python"), scope)  # noqa: S102  (the doc's own example, run as a reader would)
    return scope["verify_kanbot_signature"]  # type: ignore[no-any-return]


def test_the_docs_verifier_accepts_kanbots_signature_and_refuses_a_forgery() -> None:
    verifier = doc_verifier()
    body = b'{"id":1,"event":"deal.won","occurred_at":"2026-12-07T12:00:00+00:00","data":{"id":7}}'
    header = sign(body, SECRET)

    assert verifier(body, header, SECRET)
    assert not verifier(body.replace(b"7", b"8"), header, SECRET)
    assert not verifier(body, header, "whsec_another_secret_000")
    assert not verifier(body, sign(body, SECRET, timestamp=1_000_000_000), SECRET)  # an old one
    assert not verifier(body, "", SECRET)


async def test_the_docs_curl_test_reaches_a_receiver_signed(receiver: Receiver) -> None:
    script = block("bash").replace("whsec_your_secret_here", SECRET)
    script = script.replace("https://erp.example.com/kanbot", receiver.url)

    shell = await asyncio.create_subprocess_exec(
        "bash", "-euo", "pipefail", "-c", script, stdout=asyncio.subprocess.PIPE
    )
    printed, _ = await asyncio.wait_for(shell.communicate(), timeout=30)

    assert shell.returncode == 0 and printed.decode().strip() == "200"
    [got] = receiver.received
    verify(got.body, got.headers[HEADER], SECRET)
    assert doc_verifier()(got.body, got.headers[HEADER], SECRET)
    assert got.document["event"] == "ping" and got.headers["X-Kanbot-Event"] == "ping"
