"""The OpenAPI 3.1 document of ``POST /api/v1/calls``, served at ``GET /api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from .generic import SIGNATURE_HEADER, CallEventIn

CALLS_PATH = "/api/v1/calls"
OPENAPI_PATH = "/api/v1/openapi.json"

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
_SIGNATURE_DOC = (
    '`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with KANBOT_CALLS_SECRET>`. '
    "A time more than 300 seconds away from the server's clock is refused as a replay."
)


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def calls_openapi(*, version: str = "1") -> dict[str, Any]:
    """The document, built from the same pydantic model that validates the requests."""
    request_schema = CallEventIn.model_json_schema(
        mode="validation", ref_template="#/components/schemas/{model}"
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kanbot call ingestion",
            "version": version,
            "description": "Report a telephone call to the CRM from any PBX. See docs/telephony-cloud.md.",
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
            }
        },
        "components": {
            "schemas": {"CallEvent": request_schema, "IngestOutcome": _OUTCOME, "Error": _ERROR},
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
