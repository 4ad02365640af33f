"""GET /meta and /version: public-safe release metadata for the landing badge.

Only four fields ever leave here (environment, version, label, ref), picked one by one from
GatewaySettings, so a new setting can never leak through this route by accident.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from tokenplace.gateway.config import GatewaySettings

router = APIRouter(tags=["meta"])
REF_CHARS = 12


class ReleaseMetadata(BaseModel):
    environment: str
    version: str
    label: str
    ref: str | None = None


def release_metadata(settings: GatewaySettings) -> ReleaseMetadata:
    """The badge payload: the label shows the version, or the short ref if there is none."""
    ref = (settings.release_ref or "").strip()[:REF_CHARS] or None
    version = settings.release_version
    tag = version or ref
    label = f"{settings.environment} {tag}" if tag else settings.environment
    return ReleaseMetadata(environment=settings.environment, version=version, label=label, ref=ref)


@router.get("/meta", response_model=ReleaseMetadata, response_model_exclude_none=True)
async def meta(request: Request) -> ReleaseMetadata:
    """Public-safe deployment metadata: environment, version, label and optional short ref."""
    return release_metadata(request.app.state.settings)


@router.get("/version", response_model=ReleaseMetadata, response_model_exclude_none=True)
async def version(request: Request) -> ReleaseMetadata:
    """Alias of /meta for deployment monitors that only need a version check."""
    return release_metadata(request.app.state.settings)
