"""The OpenAPI 3.1 document of the CRM's signed API, served at ``GET /api/v1/openapi.json``: ``POST
/api/v1/calls`` (any PBX reports a call), ``POST /api/v1/recordings`` (the bridge hands over a recording)
and ``POST /api/v1/call-requests/...`` (the bridge places the calls asked for from the cards)."""

from __future__ import annotations

from typing import Any

from crm_core.domain.dialing import Refusal
from crm_core.domain.recordings import MAX_BYTES
from telephony_bridge.dialing.api import CLAIM_PATH, REPORT_PATH
from telephony_bridge.recordings.api import META_HEADER, UPLOAD_PATH

from .generic import SIGNATURE_HEADER, CallEventIn

CALLS_PATH = "/api/v1/calls"
OPENAPI_PATH = "/api/v1/openapi.json"
RECORDINGS_PATH = UPLOAD_PATH

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string", "description": "Why the request changed nothing."}},
    "additionalProperties": False,
}
_OUTCOME = {
    "type": "object",
    "required": ["call_id", "deal_id", "created", "duplicate"],
    "properties": {
        "call_id": {"type": "string"},
        "deal_id": {"type": ["integer", "null"], "description": "The deal the call landed on, if any."},
        "created": {"type": "boolean", "description": "Whether the call created a new deal."},
        "duplicate": {
            "type": "boolean",
            "description": "Whether this exact event had already been ingested.",
        },
    },
    "additionalProperties": False,
}
_RECORDING_META = {
    "type": "object",
    "required": ["provider", "call_id", "size", "sha256"],
    "properties": {
        "provider": {"type": "string", "description": "The call's provider, as reported (`asterisk`)."},
        "call_id": {"type": "string", "description": "The call's id, as reported (Asterisk's Linkedid)."},
        "file_name": {"type": ["string", "null"], "description": "The file's name (its type by extension)."},
        "size": {"type": "integer", "minimum": 1, "maximum": MAX_BYTES, "description": "The body's size."},
        "sha256": {"type": "string", "description": "The body's SHA-256, in hex."},
    },
}
_RECORDING_KEPT = {
    "type": "object",
    "required": ["provider", "call_id"],
    "properties": {"provider": {"type": "string"}, "call_id": {"type": "string"}},
    "additionalProperties": False,
}
_CALL_REQUEST = {
    "type": "object",
    "required": ["id", "extension", "number", "customer_name", "deal_id"],
    "properties": {
        "id": {"type": "integer"},
        "extension": {"type": "string", "description": "The seller's extension: their phone rings first."},
        "number": {"type": "string", "description": "The customer's number (E.164), dialled next."},
        "customer_name": {"type": ["string", "null"], "description": "What the seller's phone shows."},
        "deal_id": {"type": "integer"},
    },
    "additionalProperties": False,
}
_CLAIMED = {
    "type": "object",
    "required": ["requests"],
    "properties": {"requests": {"type": "array", "items": {"$ref": "#/components/schemas/CallRequest"}}},
    "additionalProperties": False,
}
_CALL_REQUEST_OUTCOME = {
    "type": "object",
    "required": ["placed"],
    "properties": {
        "placed": {"type": "boolean", "description": "Whether the PBX placed the call."},
        "call_id": {"type": ["string", "null"], "description": "The placed call's id at the PBX."},
        "refusal": {
            "type": ["string", "null"],
            "enum": [*[r.value for r in Refusal], None],
            "description": "Why the call was not placed (default `pbx_refused`).",
        },
        "detail": {"type": ["string", "null"], "description": "The PBX's words, for the log."},
    },
}
_SETTLED = {
    "type": "object",
    "required": ["id", "placed"],
    "properties": {"id": {"type": "integer"}, "placed": {"type": "boolean"}},
    "additionalProperties": False,
}
_SIGNATURE_DOC = (
    '`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with KANBOT_CALLS_SECRET>`. '
    "A time more than 300 seconds away from the server's clock is refused as a replay."
)


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _recordings() -> dict[str, Any]:
    return {
        "post": {
            "operationId": "uploadRecording",
            "summary": "Hand the CRM a call's recording (an Asterisk MixMonitor file the bridge carries)",
            "description": (
                f"The body is the file. `{META_HEADER}` describes it; `{SIGNATURE_HEADER}` signs that "
                "header's exact text (not the body), so the signature is checked before the body is read; "
                "the body must then have the signed size and SHA-256. The CRM keeps a call's first "
                "recording: sending it again answers 201. See docs/telephony-recordings.md."
            ),
            "security": [{"kanbotSignature": []}],
            "parameters": [
                {
                    "name": META_HEADER,
                    "in": "header",
                    "required": True,
                    "description": "A JSON object: the call and the file it carries (RecordingMeta).",
                    "schema": {
                        "type": "string",
                        "contentMediaType": "application/json",
                        "contentSchema": {"$ref": "#/components/schemas/RecordingMeta"},
                    },
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            },
            "responses": {
                "201": _json("Kept (or kept already): the call's recording.", "RecordingKept"),
                "400": _error(
                    f"A missing or malformed {META_HEADER}, or a body that is not the signed file "
                    "(size, SHA-256), or the CRM will never keep it (the message says why)."
                ),
                "401": _error("Missing, wrong or stale X-Kanbot-Signature."),
                "422": _error("The CRM refused the recording (the message says why)."),
                "503": _error("Not configured (no KANBOT_CALLS_SECRET), or the CRM is unavailable: retry."),
            },
        }
    }


def _call_requests() -> dict[str, Any]:
    signed_object = {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    refusals = {
        "400": _error("The body is not a JSON object (or, for an outcome, not a valid one)."),
        "401": _error("Missing, wrong or stale X-Kanbot-Signature (it signs the body)."),
        "503": _error("Not configured: no KANBOT_CALLS_SECRET."),
    }
    return {
        CLAIM_PATH: {
            "post": {
                "operationId": "claimCallRequests",
                "summary": "Take the next calls to place (each held for the caller for a minute)",
                "security": [{"kanbotSignature": []}],
                "requestBody": signed_object | {"description": "`{}`"},
                "responses": {"200": _json("The calls to place now (maybe none).", "ClaimedCallRequests")}
                | refusals,
            }
        },
        REPORT_PATH: {
            "post": {
                "operationId": "settleCallRequest",
                "summary": "Say whether the PBX placed a call request",
                "security": [{"kanbotSignature": []}],
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/CallRequestOutcome"}}
                    },
                },
                "responses": {
                    "200": _json("Recorded.", "CallRequestSettled"),
                    "404": _error("No such call request."),
                }
                | refusals,
            }
        },
    }


def calls_openapi(*, version: str = "1") -> dict[str, Any]:
    """The document; the calls' request schema is the pydantic model that validates the requests."""
    request_schema = CallEventIn.model_json_schema(
        mode="validation", ref_template="#/components/schemas/{model}"
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kanbot telephony API",
            "version": version,
            "description": (
                "Report a telephone call to the CRM from any PBX (docs/telephony-cloud.md); hand it a "
                "call's recording and place the calls asked for from the cards, as `kanbot bridge ami` "
                "does (docs/telephony-asterisk.md, docs/telephony-recordings.md)."
            ),
        },
        "paths": {
            CALLS_PATH: {
                "post": {
                    "operationId": "ingestCall",
                    "summary": "Report a call (in progress or final) to the CRM",
                    "security": [{"kanbotSignature": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/CallEvent"}}
                        },
                    },
                    "responses": {
                        "202": {
                            "description": "Accepted: the call was ingested, or recognised as a replay.",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/IngestOutcome"}}
                            },
                        },
                        "400": _error("Malformed JSON, a missing or invalid field (the message names it)."),
                        "401": _error("Missing, wrong or stale X-Kanbot-Signature."),
                        "413": _error("The body is larger than the limit (64 KiB by default)."),
                        "422": _error("The CRM refused the call (the message says why)."),
                        "503": _error(
                            "Not configured (no KANBOT_CALLS_SECRET), or the CRM is unavailable: retry."
                        ),
                    },
                }
            },
            RECORDINGS_PATH: _recordings(),
            **_call_requests(),
        },
        "components": {
            "schemas": {
                "CallEvent": request_schema,
                "IngestOutcome": _OUTCOME,
                "Error": _ERROR,
                "RecordingMeta": _RECORDING_META,
                "RecordingKept": _RECORDING_KEPT,
                "CallRequest": _CALL_REQUEST,
                "ClaimedCallRequests": _CLAIMED,
                "CallRequestOutcome": _CALL_REQUEST_OUTCOME,
                "CallRequestSettled": _SETTLED,
            },
            "securitySchemes": {
                "kanbotSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": SIGNATURE_HEADER,
                    "description": _SIGNATURE_DOC,
                }
            },
        },
    }
