"""Requests and responses of the relay-blind routes: envelopes and routing ids only.

A plaintext-like field is refused by name, and so is any field a route does not
document (`tokenplace.gateway.protocol.CiphertextOnly`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tokenplace.gateway.protocol import (
    CiphertextOnly,
    EnvelopeFields,
    PublicKeyText,
    RequestId,
    SealedData,
)


class SealedRequestIn(EnvelopeFields):
    server_public_key: PublicKeyText
    client_public_key: PublicKeyText
    request_id: RequestId
    cancel_token: str = Field(min_length=16, max_length=256)


class SealedAccepted(BaseModel):
    status: Literal["queued", "running", "completed", "cancelled", "expired", "lost"]
    request_id: str
    duplicate: bool


class RetrieveIn(CiphertextOnly):
    client_public_key: PublicKeyText
    request_id: RequestId | None = None


class SealedAnswer(SealedData):
    request_id: str


class Pending(BaseModel):
    status: Literal["pending"] = "pending"
    request_id: str


class CancelIn(CiphertextOnly):
    client_public_key: PublicKeyText
    request_id: RequestId
    cancel_token: str = Field(min_length=1, max_length=256)


class CancelOut(BaseModel):
    status: Literal["cancelled"] = "cancelled"
    request_id: str


class NextServer(BaseModel):
    server_public_key: str
    node_id: str
