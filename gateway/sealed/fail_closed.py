"""Internal relay dispatch routes of the launch contract, kept fail-closed.

Distributed API v1 work goes through the ciphertext-only /api/v1/relay routes;
these internal paths refuse plaintext payloads by name and anything else with 503.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request

from tokenplace.gateway.errors import APIError
from tokenplace.gateway.protocol import PLAINTEXT_FIELDS, ErrorResponse

router = APIRouter(prefix="/relay/api/v1", tags=["internal (fail-closed)"])
# Any JSON is read, and refused: documented so that clients (and fuzzers) may send some.
ANY_JSON_BODY = {"required": False, "content": {"application/json": {"schema": {}}}}


async def _refuse(request: Request) -> None:
    try:
        payload = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        payload = None
    plaintext = [name for name in PLAINTEXT_FIELDS if isinstance(payload, dict) and name in payload]
    if plaintext:
        raise APIError(
            400,
            f"plaintext field '{plaintext[0]}' is refused: distributed API v1 "
            "relay traffic is end-to-end encrypted",
            "plaintext_forbidden",
            plaintext[0],
        )
    raise APIError(
        503,
        "internal relay dispatch is disabled; queue ciphertext envelopes with "
        "POST /api/v1/relay/requests",
        "distributed_api_v1_relay_disabled",
    )


def _fail_closed(path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A route that only ever answers 400 (plaintext named) or 503 (disabled)."""
    return router.post(
        path,
        status_code=503,
        response_model=ErrorResponse,
        response_description="Always: internal relay dispatch is disabled (fail-closed)",
        responses={400: {"model": ErrorResponse, "description": "A plaintext field was sent"}},
        openapi_extra={"requestBody": ANY_JSON_BODY},
    )


@_fail_closed("/chat/completions")
async def internal_chat_completions(request: Request) -> None:
    await _refuse(request)


@_fail_closed("/source")
async def internal_source(request: Request) -> None:
    await _refuse(request)
