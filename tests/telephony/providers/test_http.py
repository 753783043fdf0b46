"""What every call endpoint shares: size limit, unconfigured secrets, CRM errors, the OpenAPI document."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp.test_utils import TestClient

from crm_core.domain.errors import Conflict, InvalidInput, Why
from telephony_bridge.providers.zadarma import zadarma_signature
from telephony_bridge.signing import sign

from .conftest import CALLS_SECRET, NOW, ZADARMA_SECRET, FakeIngest, Serve, data


def signed(body: bytes) -> str:
    return sign(body, CALLS_SECRET, timestamp=int(NOW))


POSTS = ["/api/v1/calls", "/hooks/twilio", "/hooks/zadarma", "/hooks/mango", "/hooks/mango/events/summary"]
TOO_BIG = b"a=" + b"x" * (65 * 1024)


@pytest.mark.parametrize("path", POSTS)
async def test_a_65_kb_body_is_refused_with_413(
    client: TestClient[Any, Any], ingest: FakeIngest, path: str
) -> None:
    response = await client.post(
        path, data=TOO_BIG, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status == 413
    assert "larger than 65536 bytes" in (await response.json())["error"]
    assert ingest.received == []


@pytest.mark.parametrize("path", POSTS)
async def test_the_413_comes_from_the_content_length_before_the_body_is_read(
    client: TestClient[Any, Any], path: str
) -> None:
    # Announce 66 560 bytes, send 100 and wait: a server that read the body first would hang here.
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {client.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {65 * 1024}\r\n\r\n".encode()
            + b"{" * 100
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    finally:
        writer.close()
        await writer.wait_closed()
    assert status_line.startswith(b"HTTP/1.1 413")


async def test_a_chunked_body_is_cut_off_at_the_limit(
    client: TestClient[Any, Any], ingest: FakeIngest
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"x" * 4096

    response = await client.post("/api/v1/calls", data=chunks())
    assert response.status == 413
    assert ingest.received == []


@pytest.mark.parametrize(
    ("setting", "method", "path"),
    [
        ("calls_secret", "POST", "/api/v1/calls"),
        ("twilio_auth_token", "POST", "/hooks/twilio"),
        ("zadarma_secret", "POST", "/hooks/zadarma"),
        ("zadarma_secret", "GET", "/hooks/zadarma?zd_echo=1"),
        ("mango_api_key", "POST", "/hooks/mango/events/call"),
        ("mango_api_salt", "POST", "/hooks/mango"),
    ],
)
async def test_an_endpoint_without_its_secret_answers_503_and_says_so_in_the_log(
    serve: Serve, ingest: FakeIngest, caplog: pytest.LogCaptureFixture, setting: str, method: str, path: str
) -> None:
    body = data("generic/inbound_missed.json")
    async with serve(**{setting: None}) as client:
        with caplog.at_level(logging.WARNING, logger="telephony_bridge.http"):
            response = await client.request(
                method, path, data=body, headers={"X-Kanbot-Signature": "t=1,v1=0"}
            )
        assert response.status == 503
        assert (await response.json())["error"].startswith("not configured: set KANBOT_")
    assert any("not configured" in record.getMessage() for record in caplog.records)
    assert ingest.received == []


def test_an_empty_secret_means_not_configured() -> None:
    from .conftest import make_settings

    assert make_settings(calls_secret="  ").calls_secret is None


async def post_generic(client: TestClient[Any, Any], name: str = "inbound_missed") -> Any:
    body = data(f"generic/{name}.json")
    return await client.post("/api/v1/calls", data=body, headers={"X-Kanbot-Signature": signed(body)})


@pytest.mark.parametrize(
    ("failure", "status", "message"),
    [
        (
            InvalidInput("caller", "x", Why.NOT_A_PHONE),
            400,
            "Invalid caller: 'x' (it is not a phone number; type it with the country or area code).",
        ),
        (Conflict("The call belongs to a closed deal."), 422, "The call belongs to a closed deal."),
        (RuntimeError("database is locked"), 503, "the CRM could not take the call now; retry later"),
    ],
)
async def test_crm_errors_are_client_errors_and_anything_else_a_503_the_pbx_retries(
    client: TestClient[Any, Any], ingest: FakeIngest, failure: Exception, status: int, message: str
) -> None:
    ingest.failure = failure
    response = await post_generic(client)
    assert response.status == status
    assert await response.json() == {"error": message}


async def test_an_unexpected_ingest_failure_is_logged_with_its_traceback(
    client: TestClient[Any, Any], ingest: FakeIngest, caplog: pytest.LogCaptureFixture
) -> None:
    ingest.failure = RuntimeError("database is locked")
    with caplog.at_level(logging.ERROR, logger="telephony_bridge.http"):
        response = await post_generic(client)
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info is not None
    assert "database is locked" not in await response.text()  # the details stay in the log


async def test_a_provider_webhook_failing_in_the_crm_is_a_503_too(
    client: TestClient[Any, Any], ingest: FakeIngest
) -> None:
    ingest.failure = RuntimeError("database is locked")
    fields = dict(parse_qsl(data("zadarma/inbound_end_answered.form").decode()))
    response = await client.post(
        "/hooks/zadarma",
        data=fields,
        headers={"Signature": zadarma_signature(fields, ZADARMA_SECRET)},
    )
    assert response.status == 503


async def test_logs_show_only_the_last_four_digits_of_a_number(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="telephony_bridge"):
        await post_generic(client, "inbound_answered_final")
        body = json.dumps(
            {**json.loads(data("generic/inbound_missed.json")), "caller": "+7 495 123"}
        ).encode()
        await client.post("/api/v1/calls", data=body, headers={"X-Kanbot-Signature": signed(body)})
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "*******4567" in text
    assert "74951234567" not in text
    assert "495 123" not in text
    assert CALLS_SECRET not in text


async def test_the_openapi_document_describes_the_call_endpoint(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    document = json.loads(await response.text())
    assert document["openapi"] == "3.1.0"
    operation = document["paths"]["/api/v1/calls"]["post"]
    assert {"202", "400", "401", "413"} <= set(operation["responses"])
    assert operation["security"] == [{"kanbotSignature": []}]
    scheme = document["components"]["securitySchemes"]["kanbotSignature"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-Kanbot-Signature")
    request = document["components"]["schemas"]["CallEvent"]
    assert set(request["required"]) == {"call_id", "direction", "status", "caller", "started_at"}
    assert set(request["properties"]) == {
        "call_id", "provider", "direction", "status", "caller", "dialed", "did", "rang",
        "answered_by", "transfers", "started_at", "answered_at", "ended_at", "duration_s",
    }  # fmt: skip
    assert _refs(document) <= {f"#/components/schemas/{name}" for name in document["components"]["schemas"]}


async def test_the_openapi_document_describes_the_bridges_recording_upload(
    client: TestClient[Any, Any],
) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    upload = document["paths"]["/api/v1/recordings"]["post"]
    assert upload["security"] == [{"kanbotSignature": []}]
    [meta] = upload["parameters"]
    assert (meta["name"], meta["in"], meta["required"]) == ("X-Kanbot-Recording", "header", True)
    assert meta["schema"]["contentSchema"] == {"$ref": "#/components/schemas/RecordingMeta"}
    assert set(document["components"]["schemas"]["RecordingMeta"]["required"]) == {
        "provider", "call_id", "size", "sha256",
    }  # fmt: skip
    assert list(upload["requestBody"]["content"]) == ["application/octet-stream"]
    assert {"201", "400", "401", "503"} <= set(upload["responses"])
    assert {"/api/v1/call-requests/claim", "/api/v1/call-requests/{id}"} <= set(document["paths"])


async def test_every_answer_of_the_call_endpoint_matches_its_documented_schema(
    client: TestClient[Any, Any],
) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    responses = document["paths"]["/api/v1/calls"]["post"]["responses"]
    good = data("generic/inbound_missed.json")
    for body, header in [(good, signed(good)), (good, None), (b"{", signed(b"{"))]:
        response = await client.post("/api/v1/calls", data=body, headers={"X-Kanbot-Signature": header or ""})
        documented = responses[str(response.status)]["content"]["application/json"]["schema"]
        _conforms(await response.json(), _resolve(document, documented))


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        return {node["$ref"]} if "$ref" in node else set().union(*map(_refs, node.values()))
    if isinstance(node, list):
        return set().union(*map(_refs, node))
    return set()


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    name = schema["$ref"].rsplit("/", 1)[-1]
    resolved: dict[str, Any] = document["components"]["schemas"][name]
    return resolved


def _conforms(value: dict[str, Any], schema: dict[str, Any]) -> None:
    """A small check of the response shapes (objects of scalar fields): required, known and typed."""
    types = {"string": str, "integer": int, "boolean": bool, "null": type(None)}
    assert set(schema["required"]) <= set(value)
    assert set(value) <= set(schema["properties"])
    for key, item in value.items():
        allowed = schema["properties"][key]["type"]
        allowed = allowed if isinstance(allowed, list) else [allowed]
        assert any(isinstance(item, types[name]) for name in allowed), (key, item)
