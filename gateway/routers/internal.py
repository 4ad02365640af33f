"""Internal relay dispatch routes of the launch contract, kept fail-closed.

Distributed API v1 work goes through the ciphertext-only /api/v1/relay routes;
these internal paths refuse plaintext payloads by name and anything else with 503.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request

from gateway.errors import APIError
from gateway.relay_schemas import PLAINTEXT_FIELDS
from gateway.schemas import ErrorResponse

router = APIRouter(prefix="/relay/api/v1", tags=["internal (fail-closed)"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse}, 503: {"model": ErrorResponse},
}


async def _refuse(request: Request) -> None:
    try:
        payload = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        payload = None
    plaintext = [name for name in PLAINTEXT_FIELDS if isinstance(payload, dict) and name in payload]
    if plaintext:
        raise APIError(400, f"plaintext field '{plaintext[0]}' is refused: distributed API v1 "
                       "relay traffic is end-to-end encrypted", "plaintext_forbidden",
                       plaintext[0])
    raise APIError(503, "internal relay dispatch is disabled; queue ciphertext envelopes with "
                   "POST /api/v1/relay/requests", "distributed_api_v1_relay_disabled")


@router.post("/chat/completions", responses=RESPONSES, response_model=None)
async def internal_chat_completions(request: Request) -> None:
    await _refuse(request)


@router.post("/source", responses=RESPONSES, response_model=None)
async def internal_source(request: Request) -> None:
    await _refuse(request)
