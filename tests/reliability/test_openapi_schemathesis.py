"""schemathesis against ``/api/v1/openapi.json``, served with the routes the web role serves over the
real CRM (both backends): bodies the schema allows and bodies it does not, signed as a PBX (or the
bridge) signs them, and unsigned. No answer is a 5xx, and every answer matches the document (status,
content type, schema); every route of the signed API is in the document.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm_core.adapters.database import Database
from crm_core.adapters.recording_files import DirectoryFiles
from crm_core.config import CrmConfig
from crm_core.domain.api_tokens import TokenScope
from crm_core.domain.users import Role
from crm_core.services import Crm
from kanbot.api import rest_routes
from kanbot.api.openapi import DOCS_PATH, merged
from kanbot.web import telephony_routes
from telephony_bridge.providers.openapi import CALLS_PATH, OPENAPI_PATH, RECORDINGS_PATH, calls_openapi
from telephony_bridge.recordings.api import META_HEADER
from telephony_bridge.settings import CloudPbxSettings
from telephony_bridge.signing import HEADER, sign
from tests.conftest import _truncate
from tests.reliability.nothing_lost import TALLY

SECRET = "schemathesis-calls-secret"
QUICK_EXAMPLES = 60
LONG_EXAMPLES = int(os.environ.get("KANBOT_SCHEMATHESIS_EXAMPLES", "1500"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


class Server:
    """The call endpoints over a real CRM, in a thread of their own (schemathesis calls synchronously)."""

    def __init__(self, database_url: str, recordings: Path) -> None:
        self.database_url, self.recordings = database_url, recordings
        self.routes: list[tuple[str, str]] = []  # (method, path) of every route served
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.token = ""  # a boss's write token of the REST API
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="calls-api", daemon=True)

    def __enter__(self) -> Server:
        self._thread.start()
        assert self.ready.wait(30), "the call endpoints did not start"
        return self

    def __exit__(self, *_: object) -> None:
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        self.loop.run_until_complete(self._serve())
        self.loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        db = Database(self.database_url)
        config = CrmConfig(default_region="RU", default_currency="RUB")
        crm = Crm(db, config=config, recording_files=DirectoryFiles(self.recordings))
        await crm.pipelines.seed_defaults()
        await crm.users.ensure_boss(telegram_id=1001, name="Olga")
        await crm.users.add(telegram_id=2001, name="Ali", role=Role.SELLER, extensions=("101",))
        boss = await crm.users.identify(1001)
        self.token = (await crm.api_tokens.create(actor=boss, name="fuzz", scope=TokenScope.WRITE)).secret
        await crm.deals.create(actor=boss, title="ACME phones", amount="1500", stage="Opportunity")
        settings = CloudPbxSettings(_env_file=None, calls_secret=SECRET)
        app = web.Application(client_max_size=settings.max_body_bytes)
        calls = telephony_routes(crm, settings, ingest=crm.calls.ingest_call, wake=lambda: None)
        app.add_routes([r for r in calls if not (r.method == "GET" and r.path == OPENAPI_PATH)])
        document = merged(calls_openapi())

        async def openapi(request: web.Request) -> web.Response:
            return web.json_response(document)

        app.router.add_get(OPENAPI_PATH, openapi)
        app.add_routes(rest_routes(crm, rate_limit=1_000_000))
        self.routes = [
            (route.method, route.resource.canonical) for route in app.router.routes() if route.resource
        ]
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self.port = runner.addresses[0][1]
        self.ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()
            await db.dispose()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    if database_url.startswith("sqlite"):  # a file of its own: the server thread opens it
        source = Path(database_url.split("///", 1)[1])
        target = tmp_path / "api.db"
        shutil.copyfile(source, target)
        url = f"sqlite+aiosqlite:///{target}"
    else:
        asyncio.run(_truncate(database_url))
        url = database_url
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    with Server(url, recordings) as running:
        yield running


def fuzz(server: Server, examples: int) -> None:
    schema = schemathesis.openapi.from_url(server.url + OPENAPI_PATH)
    operation = schema[CALLS_PATH]["POST"]
    session = requests.Session()
    strategies = [
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    ]

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(
        case=strategies[0] | strategies[1],
        signed=st.sampled_from([True, True, True, False]),
        deepen=st.booleans(),
        caller=st.sampled_from(PHONES),
        # any length the document allows, not mostly short ones: limits are where storage breaks
        extension=st.integers(1, 64).flatmap(lambda n: st.text(min_size=n, max_size=n)),
    )
    def one(case: Any, signed: bool, deepen: bool, caller: str | None, extension: str) -> None:
        TALLY.cases += 1
        if deepen and isinstance(case.body, dict):
            _deepen(case.body, caller, extension)
        body = _body(case)
        headers = {"Content-Type": "application/json"}
        if signed:
            headers[HEADER] = sign(body, SECRET)
        response = session.post(server.url + CALLS_PATH, data=body, headers=headers, timeout=30)
        assert response.status_code < 500, (response.status_code, response.text, body[:300])
        case.validate_response(response, checks=CHECKS)

    one()


PHONES = ["+74951234567", "8 (916) 123-45-67", "+1 202 555 0143", None]
STARTED, ANSWERED, ENDED = "2024-05-14T10:15:30Z", "2024-05-14T10:15:40+00:00", "2024-05-14T13:16:05+03:00"


def _deepen(body: dict[str, Any], caller: str | None, extension: str) -> None:
    """Make what the schema allows also make sense (a real number, times in order), so that the
    request gets past the parser into the CRM and its database; the rest stays as generated."""
    body["caller"] = caller
    if body.get("dialed") is not None:
        body["dialed"] = "+74997001122"
    body["started_at"] = STARTED
    for key, moment in (("answered_at", ANSWERED), ("ended_at", ENDED)):
        if body.get(key) is not None:
            body[key] = moment
    if body.get("status") == "missed":
        body["answered_by"] = body["answered_at"] = None
    elif extension.strip():
        body["answered_by"] = extension


def _body(case: Any) -> bytes:
    """The exact bytes to post (and sign): JSON of what schemathesis generated, or its raw bytes."""
    body = case.body
    if isinstance(body, bytes):
        return body
    try:
        return json.dumps(body).encode()
    except (TypeError, ValueError):
        return b"null"


def fuzz_recordings(server: Server, examples: int) -> None:
    """Uploads as the bridge makes them (the signed header describing the body), tampered with, and as
    schemathesis generates them; a kept one is on disk with the signed bytes."""
    operation = _operation(server, RECORDINGS_PATH)
    session = requests.Session()

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        case=_cases(operation),
        signed=st.sampled_from([True, True, True, False]),
        deepen=st.booleans(),
        audio=st.binary(min_size=1, max_size=4096),
        call_id=st.sampled_from(["1716531234.12", "1716531299.40"]),
        tamper=st.sampled_from([None, None, "size", "sha256", "body"]),
    )
    def one(case: Any, signed: bool, deepen: bool, audio: bytes, call_id: str, tamper: str | None) -> None:
        TALLY.cases += 1
        headers = {str(k): str(v) for k, v in (case.headers or {}).items()}
        body = case.body if isinstance(case.body, bytes) else _body(case)
        if deepen:
            meta = {"provider": "asterisk", "call_id": call_id, "file_name": f"{call_id}.wav"}
            meta |= {"size": len(audio), "sha256": hashlib.sha256(audio).hexdigest()}
            if tamper in ("size", "sha256"):
                meta[tamper] = len(audio) + 1 if tamper == "size" else hashlib.sha256(b"x").hexdigest()
            headers[META_HEADER] = json.dumps(meta)
            body = audio + b"!" if tamper == "body" else audio
        if signed:
            headers[HEADER] = sign(headers.get(META_HEADER, "").encode("utf-8", "surrogateescape"), SECRET)
        headers["Content-Type"] = "application/octet-stream"
        response = session.post(server.url + RECORDINGS_PATH, data=body, headers=headers, timeout=30)
        assert response.status_code < 500, (response.status_code, response.text, headers)
        case.validate_response(response, checks=CHECKS)
        if deepen and signed and tamper is None:
            assert response.status_code == 201, response.text
            assert response.json() == {"provider": "asterisk", "call_id": call_id}

    one()
    assert len(list(server.recordings.iterdir())) <= 2  # a call keeps its first recording only


def fuzz_call_requests(server: Server, examples: int) -> None:
    """Claims and outcomes as the bridge signs them (and not), with what schemathesis generates."""
    claim = _operation(server, "/api/v1/call-requests/claim")
    settle = _operation(server, "/api/v1/call-requests/{id}")
    session = requests.Session()

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=_cases(claim) | _cases(settle), signed=st.sampled_from([True, True, True, False]))
    def one(case: Any, signed: bool) -> None:
        TALLY.cases += 1
        body = _body(case)
        headers = {"Content-Type": "application/json"}
        if signed:
            headers[HEADER] = sign(body, SECRET)
        url = server.url + case.formatted_path
        response = session.post(url, data=body, headers=headers, timeout=30)
        assert response.status_code < 500, (response.status_code, response.text, url, body[:300])
        case.validate_response(response, checks=CHECKS)

    one()


REST = (
    "/api/v1/deals",
    "/api/v1/contacts",
    "/api/v1/tasks",
    "/api/v1/pipelines",
    "/api/v1/fields",
    "/api/v1/users",
)


def fuzz_rest(server: Server, examples: int) -> None:
    """Every REST operation with the boss's token (and without one): what the schema allows and what it
    does not; ids mostly of the deal there is."""
    schema = schemathesis.openapi.from_url(server.url + OPENAPI_PATH)
    operations = [
        schema[path][method.upper()]
        for path, item in schema.raw_schema["paths"].items()
        if path.startswith(REST)
        for method in item
    ]
    strategy = st.one_of(*(_cases(operation) for operation in operations))
    session = requests.Session()

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=strategy, authorized=st.sampled_from([True, True, True, False]), real_id=st.booleans())
    def one(case: Any, authorized: bool, real_id: bool) -> None:
        TALLY.cases += 1
        headers = {str(k): str(v) for k, v in (case.headers or {}).items()}
        if authorized:
            headers["Authorization"] = f"Bearer {server.token}"
        if real_id and case.path_parameters and "id" in case.path_parameters:
            case.path_parameters["id"] = 1
        body = None if case.body is None or case.method in ("GET",) else _body(case)
        if body is not None:
            headers["Content-Type"] = "application/json"
        url = server.url + case.formatted_path
        response = session.request(
            case.method, url, data=body, headers=headers, params=case.query, timeout=30
        )
        assert response.status_code < 500, (response.status_code, response.text, url, body)
        case.validate_response(response, checks=CHECKS)

    one()


def _operation(server: Server, path: str) -> Any:
    return schemathesis.openapi.from_url(server.url + OPENAPI_PATH)[path]["POST"]


def _cases(operation: Any) -> Any:
    return operation.as_strategy(generation_mode=GenerationMode.POSITIVE) | operation.as_strategy(
        generation_mode=GenerationMode.NEGATIVE
    )


def test_every_route_of_the_signed_api_is_in_the_document_and_only_those(server: Server) -> None:
    document = requests.get(server.url + OPENAPI_PATH, timeout=30).json()
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    served = {
        (m, p)
        for m, p in server.routes
        if p.startswith("/api/") and p not in (OPENAPI_PATH, DOCS_PATH) and m != "HEAD"
    }
    assert {"/api/v1/calls", RECORDINGS_PATH} <= {p for _, p in served}
    assert served == documented  # the PBXs' own webhooks (/hooks/...) follow the PBXs' documents


def test_the_call_api_never_answers_5xx_and_always_as_documented(server: Server) -> None:
    fuzz(server, QUICK_EXAMPLES)


def test_the_recording_upload_never_answers_5xx_and_always_as_documented(server: Server) -> None:
    fuzz_recordings(server, QUICK_EXAMPLES)


def test_the_call_request_api_never_answers_5xx_and_always_as_documented(server: Server) -> None:
    fuzz_call_requests(server, QUICK_EXAMPLES)


def test_the_rest_api_never_answers_5xx_and_always_as_documented(server: Server) -> None:
    fuzz_rest(server, QUICK_EXAMPLES * 3)


@pytest.mark.reliability
def test_the_call_api_holds_its_document_over_thousands_of_requests(server: Server) -> None:
    fuzz(server, LONG_EXAMPLES)


@pytest.mark.reliability
def test_the_recording_and_call_request_apis_hold_their_document_over_thousands_of_requests(
    server: Server,
) -> None:
    fuzz_recordings(server, LONG_EXAMPLES // 2)
    fuzz_call_requests(server, LONG_EXAMPLES // 2)


@pytest.mark.reliability
def test_the_rest_api_holds_its_document_over_thousands_of_requests(server: Server) -> None:
    fuzz_rest(server, LONG_EXAMPLES)
