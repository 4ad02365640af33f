"""Requests and responses of the operator routes."""

from __future__ import annotations

from pydantic import BaseModel

from tokenplace.gateway.protocol import CiphertextOnly, PublicKeyText


class UnregisterNodeIn(CiphertextOnly):
    server_public_key: PublicKeyText


class PublicKeyRotated(BaseModel):
    public_key: str
