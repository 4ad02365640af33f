"""GET /health and /public-key (with their /v1 aliases), and /meta and /version."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, FastAPI

from tokenplace.client.errors import RelayCallError
from tokenplace.gateway.meta.protocol import HealthResponse, PublicKeyResponse, ReleaseMetadata
from tokenplace.gateway.meta.release import release_metadata
from tokenplace.gateway.mounting import API_V1, OPENAI_COMPATIBLE, mount
from tokenplace.gateway.services import ServicesDep

router = APIRouter(tags=["meta"])
release_router = APIRouter(tags=["meta"])
VERSION = "0.1.0"


def attach(app: FastAPI) -> None:
    mount(app, router, OPENAI_COMPATIBLE)
    mount(app, release_router, API_V1)


@router.get("/health", response_model=HealthResponse)
async def health(services: ServicesDep) -> HealthResponse:
    try:
        await services.relay.inference.list_models()
        relay_state = "reachable"
    except RelayCallError:
        relay_state = "unreachable"
    return HealthResponse(
        status="ok" if relay_state == "reachable" else "degraded",
        version=VERSION,
        service="token.place",
        timestamp=datetime.now(UTC).isoformat(),
        relay=relay_state,
    )


@router.get("/public-key", response_model=PublicKeyResponse)
async def public_key(services: ServicesDep) -> PublicKeyResponse:
    return PublicKeyResponse(public_key=services.identity.public_key)


@release_router.get("/meta", response_model=ReleaseMetadata, response_model_exclude_none=True)
async def meta(services: ServicesDep) -> ReleaseMetadata:
    """Public-safe deployment metadata: environment, version, label and optional short ref."""
    return release_metadata(services.settings)


@release_router.get("/version", response_model=ReleaseMetadata, response_model_exclude_none=True)
async def version(services: ServicesDep) -> ReleaseMetadata:
    """Alias of /meta for deployment monitors that only need a version check."""
    return release_metadata(services.settings)
