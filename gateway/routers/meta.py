"""GET /health and /public-key."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request

from tokenplace.gateway.errors import APIError
from tokenplace.gateway.schemas import HealthResponse, PublicKeyResponse

router = APIRouter(tags=["meta"])
VERSION = "0.1.0"


@router.get("/health", response_model=HealthResponse)
async def health(request: Request) -> HealthResponse:
    try:
        await request.app.state.relay.list_models()
        relay_state = "reachable"
    except APIError:
        relay_state = "unreachable"
    return HealthResponse(
        status="ok" if relay_state == "reachable" else "degraded",
        version=VERSION,
        service="token.place",
        timestamp=datetime.now(UTC).isoformat(),
        relay=relay_state,
    )


@router.get("/public-key", response_model=PublicKeyResponse)
async def public_key(request: Request) -> PublicKeyResponse:
    return PublicKeyResponse(public_key=request.app.state.completions.public_key)
