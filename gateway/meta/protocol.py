"""Responses of the meta routes: health, the gateway's public key, release metadata."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    service: str
    timestamp: str
    relay: Literal["reachable", "unreachable"]


class PublicKeyResponse(BaseModel):
    public_key: str


class ReleaseMetadata(BaseModel):
    environment: str
    version: str
    label: str
    ref: str | None = None
