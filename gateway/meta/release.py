"""Public-safe release metadata for the landing badge (GET /meta and /version).

Only four fields ever leave here (environment, version, label, ref), picked one by one from
GatewaySettings, so a new setting can never leak through this route by accident.
"""

from __future__ import annotations

from tokenplace.gateway.config import GatewaySettings
from tokenplace.gateway.meta.protocol import ReleaseMetadata

REF_CHARS = 12


def release_metadata(settings: GatewaySettings) -> ReleaseMetadata:
    """The badge payload: the label shows the version, or the short ref if there is none."""
    ref = (settings.release_ref or "").strip()[:REF_CHARS] or None
    version = settings.release_version
    tag = version or ref
    label = f"{settings.environment} {tag}" if tag else settings.environment
    return ReleaseMetadata(environment=settings.environment, version=version, label=label, ref=ref)
