"""Forged and replayed requests: refused, and nothing changed. Bodies over the limit: refused early.

The call endpoints run over the real CRM (both backends) on a real port; requests are written byte by
byte (``rawhttp``), so a header may carry anything a hostile client sends. The Telegram webhook's
secret (wrong, missing, not UTF-8) and forged Mini App launch data are covered in
tests/ops/test_http_ops.py and tests/webapp/; here are what those leave out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from aiohttp import web
from sqlalchemy import text

from bot.webapp import initdata
from bot.webapp.api import webapp_routes
from crm_core.services import Crm
from telegram_emulator import Emulator
from telephony_bridge import signing
from telephony_bridge.http import create_app
from telephony_bridge.providers import mango, twilio, zadarma
from telephony_bridge.settings import CloudPbxSettings
from tests.e2e.harness import ALI, RunningKanbot, webhook_settings
from tests.reliability.nothing_lost import TALLY, calls_once
from tests.reliability.rawhttp import RawAnswer, raw_request
from tests.support.databases import SQLITE_ONLY
from tests.support.network import free_port
from tests.webapp.support import telegram_init_data

DATA = Path(__file__).resolve().parents[1] / "data" / "webhooks"
CALLS_SECRET, TWILIO_TOKEN, ZADARMA_SECRET = (
    "forged-test-calls-secret",
    "forged-test-twilio-auth-token-0032",
    "forged-test-zadarma-secret",
)
MANGO_KEY, MANGO_SALT, BOT_TOKEN = "forged-test-mango-key", "forged-test-mango-salt", "700001:forged-test"
PUBLIC_URL = "https://crm.example.com"
LIMIT = 65536


def settings(**overrides: Any) -> CloudPbxSettings:
    values: dict[str, Any] = {
        "twilio_auth_token": TWILIO_TOKEN,
        "zadarma_secret": ZADARMA_SECRET,
        "mango_api_key": MANGO_KEY,
        "mango_api_salt": MANGO_SALT,
        "calls_secret": CALLS_SECRET,
        "public_url": PUBLIC_URL,
        "zadarma_timezone": "Europe/Moscow",
    }
    return CloudPbxSettings(_env_file=None, **(values | overrides))


@dataclass
class Served:
    port: int
    crm: Crm

    async def post(self, path: str, body: bytes, *headers: bytes, **kw: Any) -> RawAnswer:
        kind = b"application/json" if path.startswith("/api") else b"application/x-www-form-urlencoded"
        TALLY.cases += 1
        return await raw_request(
            self.port, "POST", path, headers=[b"Content-Type: " + kind, *headers], body=body, **kw
        )

    async def counts(self) -> dict[str, int]:
        async with self.crm.db.engine.connect() as conn:
            return {
                t: int(await conn.scalar(text(f"SELECT count(*) FROM {t}")) or 0)  # noqa: S608 (fixed names)
                for t in ("calls", "deals", "deal_events", "contacts", "tasks", "outbox")
            }


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


@pytest.fixture
async def calls(request: pytest.FixtureRequest, crm: Crm) -> AsyncIterator[Served]:
    """The call endpoints over the CRM; Twilio's URL from KANBOT_PUBLIC_URL, or (param ``None``) from
    the Host header."""
    public_url = getattr(request, "param", PUBLIC_URL)
    runner, port = await serve(
        create_app(
            ingest=crm.calls.ingest_call, settings=settings(public_url=public_url), bind=crm.calls.bind_seal
        )
    )
    yield Served(port, crm)
    await runner.cleanup()


BY_PUBLIC_URL_AND_HOST = pytest.mark.parametrize(
    "calls", [PUBLIC_URL, None], indirect=True, ids=["public-url", "host"]
)


def now() -> int:
    return int(time.time())


def generic_body(call_id: str = "forged-1") -> bytes:
    body = json.loads((DATA / "generic" / "inbound_missed.json").read_text())
    return json.dumps(body | {"call_id": call_id}).encode()


def sig(body: bytes, *, secret: str = CALLS_SECRET, at: int | None = None) -> bytes:
    return (
        b"X-Kanbot-Signature: "
        + signing.sign(body, secret, timestamp=at if at is not None else now()).encode()
    )


GENERIC_FORGERIES: dict[str, Callable[[bytes], list[bytes]]] = {
    "no signature": lambda body: [],
    "another secret": lambda body: [sig(body, secret="not-the-secret")],
    "re-signed body": lambda body: [sig(body.replace(b"79161234567", b"79161234568"))],
    "older than 5 minutes": lambda body: [sig(body, at=now() - 301)],
    "from the future": lambda body: [sig(body, at=now() + 301)],
    "a time of 400 digits": lambda body: [b"X-Kanbot-Signature: t=" + b"9" * 400 + b",v1=" + b"0" * 64],
    "a negative time of 400 digits": lambda body: [b"X-Kanbot-Signature: t=-" + b"9" * 400 + b",v1=00"],
    "bytes that are not UTF-8": lambda body: [b"X-Kanbot-Signature: t=1,v1=\xff\xfe"],
    "no v1": lambda body: [b"X-Kanbot-Signature: t=%d" % now()],
    "an empty v1": lambda body: [b"X-Kanbot-Signature: t=%d,v1=" % now()],
    "the digest of another time": lambda body: [
        sig(body, at=now() - 10).replace(b"t=%d" % (now() - 10), b"t=%d" % now())
    ],
}


async def test_forged_or_stale_call_posts_are_401_and_change_nothing(calls: Served) -> None:
    before = await calls.counts()
    body = generic_body()
    for forgery, headers in GENERIC_FORGERIES.items():
        TALLY.fault("forged request")
        answer = await calls.post("/api/v1/calls", body, *headers(body))
        assert answer.status == 401, (forgery, answer)
        assert "X-Kanbot-Signature" in json.loads(answer.body)["error"], forgery
    assert await calls.counts() == before


async def test_a_genuine_call_post_replayed_is_recorded_once(calls: Served) -> None:
    TALLY.fault("replayed request", 2)
    body = generic_body("replayed-1")
    header = sig(body)
    answers = [await calls.post("/api/v1/calls", body, header) for _ in range(3)]
    assert [a.status for a in answers] == [202, 202, 202]
    assert [json.loads(a.body)["duplicate"] for a in answers] == [False, True, True]
    assert (await calls.counts())["deals"] == 1
    await calls_once(calls.crm.db, [("generic", "replayed-1", True)])


def twilio_form(**changes: str) -> dict[str, str]:
    return dict(parse_qsl((DATA / "twilio" / "inbound_completed.form").read_text().strip())) | changes


def twilio_sig(form: dict[str, str], url: str) -> bytes:
    return b"X-Twilio-Signature: " + twilio.twilio_signature(url, list(form.items()), TWILIO_TOKEN).encode()


@BY_PUBLIC_URL_AND_HOST
async def test_forged_twilio_callbacks_are_refused_and_change_nothing(calls: Served) -> None:
    form = twilio_form()
    body = urlencode(form).encode()
    url = f"{PUBLIC_URL}/hooks/twilio"
    forgeries = {
        "no signature": [],
        "another token": [
            b"X-Twilio-Signature: " + twilio.twilio_signature(url, list(form.items()), "x").encode()
        ],
        "another URL": [twilio_sig(form, "https://evil.example.com/hooks/twilio")],
        "params changed after signing": [twilio_sig(twilio_form(CallDuration="1"), url)],
        "signature not UTF-8": [b"X-Twilio-Signature: \xff\xfe=="],
    }
    TALLY.fault("forged request", len(forgeries) + 1)
    before = await calls.counts()
    for name, headers in forgeries.items():
        answer = await calls.post("/hooks/twilio", body, *headers)
        assert answer.status == 403, (name, answer)
    answer = await raw_request(
        calls.port,
        "POST",
        "/hooks/twilio",
        headers=[
            b"Host: \xff\xfe.example",
            b"Content-Type: application/x-www-form-urlencoded",
            twilio_sig(form, url),
        ],
        body=body,
    )
    assert answer.status in (400, 403), answer  # a Host that is not UTF-8: never a 500
    assert await calls.counts() == before


@BY_PUBLIC_URL_AND_HOST
async def test_a_genuine_twilio_callback_replayed_is_recorded_once(
    calls: Served, request: pytest.FixtureRequest
) -> None:
    form = twilio_form()
    body = urlencode(form).encode()
    # Behind a proxy Twilio signs KANBOT_PUBLIC_URL; without it, the URL the CRM was called at.
    base = PUBLIC_URL if "public-url" in request.node.name else "http://127.0.0.1"
    TALLY.fault("replayed request", 2)
    for _ in range(3):
        assert (
            await calls.post("/hooks/twilio", body, twilio_sig(form, base + "/hooks/twilio"))
        ).status == 200
    await calls_once(calls.crm.db, [("twilio", form["CallSid"], True)])


def zadarma_form(**changes: str) -> dict[str, str]:
    return dict(parse_qsl((DATA / "zadarma" / "inbound_end_answered.form").read_text().strip())) | changes


async def test_forged_zadarma_notifications_are_refused_and_change_nothing(calls: Served) -> None:
    form = zadarma_form()
    body = urlencode(form).encode()
    good = zadarma.zadarma_signature(form, ZADARMA_SECRET).encode()
    forgeries = {
        "no signature": [],
        "another secret": [b"Signature: " + zadarma.zadarma_signature(form, "x").encode()],
        "another call's signature": [
            b"Signature: "
            + zadarma.zadarma_signature(
                zadarma_form(call_start="2024-05-14 12:15:01"), ZADARMA_SECRET
            ).encode()
        ],
        "signature not UTF-8": [b"Signature: \xff" + good[1:]],
    }
    TALLY.fault("forged request", len(forgeries))
    before = await calls.counts()
    for name, headers in forgeries.items():
        answer = await calls.post("/hooks/zadarma", body, *headers)
        assert answer.status == 401, (name, answer)
    assert await calls.counts() == before
    TALLY.fault("replayed request", 2)
    for _ in range(3):
        assert (await calls.post("/hooks/zadarma", body, b"Signature: " + good)).status == 200
    await calls_once(calls.crm.db, [("zadarma", form["pbx_call_id"], True)])


def zadarma_notice(name: str, **changes: str) -> dict[str, str]:
    return dict(parse_qsl((DATA / "zadarma" / f"{name}.form").read_text().strip())) | changes


async def test_zadarma_final_calls_forged_from_a_captured_notification_are_403_and_change_nothing(
    calls: Served,
) -> None:
    """Zadarma signs caller_id + called_did + call_start only: a captured ringing notification's signature
    signs any final call with those three. Once seen, they belong to their pbx_call_id."""
    ringing = zadarma_notice("inbound_start")
    signature = b"Signature: " + zadarma.zadarma_signature(ringing, ZADARMA_SECRET).encode()
    TALLY.cases += 1
    assert (await calls.post("/hooks/zadarma", urlencode(ringing).encode(), signature)).status == 200
    end = {"event": "NOTIFY_END", "disposition": "answered", "duration": "3600", "internal": "102"}
    forgeries = {
        "another call id": ringing | end | {"pbx_call_id": "in_forged"},
        "the same call, fields shifted": ringing
        | end
        | {"caller_id": ringing["caller_id"] + "7", "called_did": ringing["called_did"][1:]},
    }
    TALLY.fault("forged request", len(forgeries))
    before = await calls.counts()
    for name, fields in forgeries.items():
        answer = await calls.post("/hooks/zadarma", urlencode(fields).encode(), signature)
        assert answer.status == 403, (name, answer)
        assert "refused" in json.loads(answer.body)["error"], name
    assert await calls.counts() == before
    genuine = zadarma_notice("inbound_end_answered")
    good = b"Signature: " + zadarma.zadarma_signature(genuine, ZADARMA_SECRET).encode()
    assert (await calls.post("/hooks/zadarma", urlencode(genuine).encode(), good)).status == 200
    await calls_once(calls.crm.db, [("zadarma", genuine["pbx_call_id"], True)])


async def test_a_twilio_parameter_moved_across_its_boundary_keeps_its_signature_but_is_its_own_call_once(
    calls: Served,
) -> None:
    """Twilio signs the URL and each name followed by its value, with nothing between: CallDuration=125
    and CallDuratio=n125 sign the same. That is Twilio's scheme; the CallSid is signed too, so such a
    request can only speak of its own call, and once that call is final it changes nothing."""
    form = twilio_form()
    header = twilio_sig(form, f"{PUBLIC_URL}/hooks/twilio")
    shifted = {k: v for k, v in form.items() if k != "CallDuration"} | {
        "CallDuratio": "n" + form["CallDuration"]
    }
    assert twilio.verify_twilio(
        f"{PUBLIC_URL}/hooks/twilio", list(shifted.items()), header.split(b": ", 1)[1].decode(), TWILIO_TOKEN
    )
    TALLY.fault("forged request")
    TALLY.cases += 1
    assert (await calls.post("/hooks/twilio", urlencode(form).encode(), header)).status == 200
    before = await calls.counts()
    assert (await calls.post("/hooks/twilio", urlencode(shifted).encode(), header)).status == 200
    assert await calls.counts() == before
    await calls_once(calls.crm.db, [("twilio", form["CallSid"], True)])


async def test_forged_mango_events_are_refused_and_change_nothing(calls: Served) -> None:
    event = (DATA / "mango" / "inbound_missed_summary.json").read_text()

    def form(key: str, sign: str, json_text: str = event) -> bytes:
        return urlencode({"vpbx_api_key": key, "sign": sign, "json": json_text}).encode()

    good = mango.mango_sign(MANGO_KEY, event, MANGO_SALT)
    forgeries = {
        "another key": form("another-key", mango.mango_sign("another-key", event, MANGO_SALT)),
        "another salt": form(MANGO_KEY, mango.mango_sign(MANGO_KEY, event, "x")),
        "json changed after signing": form(MANGO_KEY, good, event.replace("79161234567", "79161234568")),
        "no sign": form(MANGO_KEY, ""),
    }
    TALLY.fault("forged request", len(forgeries))
    before = await calls.counts()
    for name, body in forgeries.items():
        answer = await calls.post("/hooks/mango/events/summary", body)
        assert answer.status == 401, (name, answer)
    assert await calls.counts() == before
    TALLY.fault("replayed request", 2)
    for _ in range(3):
        assert (await calls.post("/hooks/mango/events/summary", form(MANGO_KEY, good))).status == 200
    await calls_once(calls.crm.db, [("mango", json.loads(event)["entry_id"], True)])


# -- the Mini App ------------------------------------------------------------------------------------


@pytest.fixture
async def board(crm: Crm) -> AsyncIterator[Served]:
    app = web.Application()
    app.add_routes(webapp_routes(crm, bot_token=BOT_TOKEN))
    runner, port = await serve(app)
    yield Served(port, crm)
    await runner.cleanup()


@pytest.mark.parametrize(
    "authorization",
    [
        b"tma user=\xff\xfe&auth_date=1&hash=" + b"0" * 64,
        b"tma \xff",
        b"\xfftma query_id=1",
        b"tma " + b"a=" + b"%ff" * 1000 + b"&hash=" + b"0" * 64,
    ],
    ids=["field-not-utf8", "data-not-utf8", "scheme-not-utf8", "percent-escapes"],
)
async def test_mini_app_launch_data_in_any_bytes_is_401_never_a_500(
    board: Served, authorization: bytes
) -> None:
    TALLY.fault("forged request")
    before = await board.counts()
    for method, path in [
        ("GET", "/app/api/board"),
        ("GET", "/app/api/deals/1"),
        ("POST", "/app/api/deals/1/move"),
    ]:
        TALLY.cases += 1
        answer = await raw_request(
            board.port,
            method,
            path,
            headers=[b"Authorization: " + authorization],
            body=b'{"to_stage_id": 2, "version": 1}',
        )
        assert answer.status == 401, (method, path, answer)
    assert await board.counts() == before


# -- secrets are compared in constant time, on bytes -------------------------------------------------


async def test_every_secret_is_compared_with_hmac_compare_digest_on_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[type, type]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        seen.append((type(a), type(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    body = generic_body()
    checks: dict[str, Callable[[], object]] = {
        "X-Kanbot-Signature": lambda: _refused(
            lambda: signing.verify(body, signing.sign(body, "x"), CALLS_SECRET)
        ),
        "X-Twilio-Signature": lambda: twilio.verify_twilio(PUBLIC_URL, [("a", "b")], "c2ln", TWILIO_TOKEN),
        "Zadarma Signature": lambda: zadarma.verify_zadarma(zadarma_form(), "c2ln", ZADARMA_SECRET),
        "Mango sign": lambda: mango.verify_mango(
            {"vpbx_api_key": "k", "sign": "s", "json": "{}"}, api_key=MANGO_KEY, api_salt=MANGO_SALT
        ),
        "Mini App hash": lambda: _refused(
            lambda: initdata.validate("auth_date=1&hash=" + "0" * 64, bot_token=BOT_TOKEN, now=_utc())
        ),
        "aiogram webhook secret": lambda: _aiogram_secret("wrong"),
        "PTB webhook secret": lambda: _ptb_secret("wrong"),
    }
    for name, check in checks.items():
        seen.clear()
        assert not check(), name
        assert seen, f"{name}: not compared with hmac.compare_digest"
        assert all(a is bytes and b is bytes for a, b in seen), f"{name}: compared {seen}"


def _refused(check: Callable[[], object]) -> bool:
    try:
        check()
    except (signing.SignatureError, initdata.InvalidInitData):
        return False
    return True


def _utc() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _aiogram_secret(sent: str) -> bool:
    from aiogram import Bot, Dispatcher

    from bot.aiogram_runtime import webhook_handler

    handler = webhook_handler(Dispatcher(), Bot("1:x"), "the-secret")
    return handler.verify_secret(sent, handler.bot)


def _ptb_secret(sent: str) -> bool:
    from bot.ptb_runtime import webhook_secret_ok

    return webhook_secret_ok(sent, "the-secret")


# -- bodies over the limit ---------------------------------------------------------------------------

ENDPOINTS = ["/api/v1/calls", "/hooks/twilio", "/hooks/zadarma", "/hooks/mango/events/summary"]


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_a_body_declared_over_the_limit_is_413_before_it_is_sent(calls: Served, path: str) -> None:
    TALLY.fault("oversized body")
    answer = await calls.post(path, b"x" * 1000, declared_length=10 * 1024 * 1024, timeout_s=5)
    assert answer.status == 413, answer


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_a_chunked_body_over_the_limit_is_413_while_it_is_still_coming(
    calls: Served, path: str
) -> None:
    TALLY.fault("oversized body")
    parts = [b"x" * 16384] * 5  # 80 KB, and the body never ends
    answer = await calls.post(path, b"", chunked_parts=parts, finish_chunked=False, timeout_s=5)
    assert answer.status == 413, answer
    assert (await calls.counts())["calls"] == 0


async def test_a_mini_app_body_over_its_limit_is_413_before_it_is_sent(board: Served) -> None:
    TALLY.fault("oversized body")
    init = telegram_init_data(BOT_TOKEN, user_id=ALI, auth_date=_utc()).encode()  # a seller of the team
    answer = await raw_request(
        board.port,
        "POST",
        "/app/api/deals/1/move",
        headers=[b"Authorization: tma " + init, b"Content-Type: application/json"],
        body=b"{" * 100,
        declared_length=5 * 1024 * 1024,
        timeout_s=5,
    )
    assert answer.status == 413, answer


def test_the_signature_helpers_use_the_same_digest_as_the_docs() -> None:
    """The documented recipe (HMAC-SHA256 of "<t>.<body>") is what the CRM checks: a client can sign."""
    body, at = b'{"call_id": "x"}', 1_715_678_400
    digest = hmac.new(CALLS_SECRET.encode(), b"1715678400." + body, hashlib.sha256).hexdigest()
    signing.verify(body, f"t={at},v1={digest}", CALLS_SECRET, now=at)


@pytest.mark.parametrize(
    "change",
    [
        {"call_id": "nul\x00id"},
        {"rang": ["10\x001"]},
        {"answered_by": "1\x00", "status": "answered", "answered_at": "2024-05-14T10:15:40Z"},
        {"answered_by": "9" * 40, "status": "answered", "answered_at": "2024-05-14T10:15:40Z"},
    ],
    ids=["nul-call-id", "nul-in-rang", "nul-extension", "extension-over-32"],
)
async def test_a_call_the_database_could_not_store_is_400_not_a_503_retried_forever(
    calls: Served, change: dict[str, Any]
) -> None:
    """PostgreSQL stores no NUL and answered_by_ext is 32 characters: these were 503s, which the
    bridge's spool (and any PBX) retries forever, holding back every call behind them."""
    TALLY.fault("unstorable call")
    body = json.dumps(json.loads(generic_body("storable")) | change).encode()
    answer = await calls.post("/api/v1/calls", body, sig(body))
    assert answer.status == 400, answer
    assert (await calls.counts())["calls"] == 0


# -- the Telegram webhook: what the secret check in tests/ops leaves out ------------------------------

WEBHOOK_SECRET = "forged-test-webhook_secret"


@pytest.fixture(params=["aiogram", "ptb"])
async def webhook(request: pytest.FixtureRequest, crm: Crm, database_url: str) -> AsyncIterator[Served]:
    """``kanbot run`` in webhook mode on each runtime, Telegram being the emulator."""
    async with Emulator(port=0) as emulator:
        port = free_port()
        settings = webhook_settings(
            database_url, emulator.url, port=port, secret=WEBHOOK_SECRET, runtime=request.param
        )
        kanbot = RunningKanbot(settings)
        await kanbot.start()
        try:
            yield Served(port, crm)
        finally:
            await kanbot.stop()


@SQLITE_ONLY
async def test_a_webhook_body_that_is_no_update_is_refused_never_a_500_and_changes_nothing(
    webhook: Served,
) -> None:
    secret = b"X-Telegram-Bot-Api-Secret-Token: " + WEBHOOK_SECRET.encode()
    cases: dict[str, tuple[list[bytes], bytes, dict[str, Any], int]] = {
        "wrong secret, 10 MB declared": (
            [b"X-Telegram-Bot-Api-Secret-Token: x"],
            b"{",
            {"declared_length": 10**7},
            401,
        ),
        "right secret, 10 MB declared": ([secret], b"x" * 70_000, {"declared_length": 10**7}, 413),
        "right secret, not JSON": ([secret], b"{not json", {}, 400),
        "right secret, a list": ([secret], b"[]", {}, 400),
        "right secret, null": ([secret], b"null", {}, 400),
        "right secret, not an update": ([secret], b'{"update_id": "x", "message": 5}', {}, 400),
    }
    before = await webhook.counts()
    for name, (headers, body, extra, status) in cases.items():
        TALLY.fault("forged request")
        answer = await raw_request(
            webhook.port,
            "POST",
            "/telegram/webhook",
            headers=[b"Content-Type: application/json", *headers],
            body=body,
            timeout_s=10,
            **extra,
        )
        assert answer.status == status, (name, answer)
    assert await webhook.counts() == before
    async with webhook.crm.db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM processed")) == 0
