"""Requests and responses of the polling-node routes: compute nodes that reach the
network over HTTP. Ciphertext and routing ids only, like every relay route."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tokenplace.e2ee import InvalidPublicKey, load_public_key
from tokenplace.gateway.protocol import (
    Base64Text,
    CiphertextOnly,
    PublicKeyText,
    SealedData,
    standard_base64,
)

# The node's failure reasons (tokenplace.v1.FailureReason, lower case).
NodeFailure = Literal["bad_envelope", "unknown_model", "engine_error", "cancelled", "busy"]


class ModelCardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=256)
    owned_by: str = Field(default="unknown", max_length=256)
    created: int = Field(default=0, ge=0)


class InventoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hostname: str = Field(default="", max_length=256)
    os: str = Field(default="", max_length=256)
    cpu: str = Field(default="", max_length=256)
    cpu_count: int = Field(default=0, ge=0, le=1_000_000)
    memory_bytes: int = Field(default=0, ge=0, le=2**63 - 1)
    engine: str = Field(default="", max_length=128)
    engine_version: str = Field(default="", max_length=128)
    agent_version: str = Field(default="", max_length=128)


class NodeRegisterIn(CiphertextOnly):
    server_public_key: PublicKeyText
    models: list[ModelCardIn] = Field(min_length=1, max_length=64)
    slots: int = Field(default=1, ge=1, le=256)
    display_name: str = Field(default="", max_length=256)
    inventory: InventoryIn = Field(default_factory=InventoryIn)

    @field_validator("server_public_key")
    @classmethod
    def _rsa_public_key(cls, value: str) -> str:
        """The credential is sealed to this key, so it must be one (else 400, not 502)."""
        try:
            load_public_key(value)
        except InvalidPublicKey as exc:
            raise ValueError(str(exc)) from None
        return value


class NodeRegistered(BaseModel):
    node_id: str
    credential: SealedData | None = Field(
        default=None,
        description="Only on a new registration: the node credential, sealed to "
        "server_public_key. Send it as X-Relay-Server-Token on every later call.",
    )
    next_ping_in_x_seconds: int
    poll_wait_seconds: int


class NodeKeyIn(CiphertextOnly):
    server_public_key: PublicKeyText


class PollIn(NodeKeyIn):
    wait_seconds: int | None = Field(default=None, ge=0, le=60)


class PolledJobOut(SealedData):
    job_id: str
    model: str
    client_public_key: str
    request_id: str
    deadline: float


class PollOut(BaseModel):
    job: PolledJobOut | None
    cancelled_job_ids: list[str]
    next_ping_in_x_seconds: int


class UsageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt_tokens: int = Field(default=0, ge=0, le=2**31)
    completion_tokens: int = Field(default=0, ge=0, le=2**31)


class NodeResultIn(CiphertextOnly):
    """A sealed answer (ciphertext, cipherkey, iv) or a failure reason, for one job."""

    server_public_key: PublicKeyText
    job_id: str = Field(min_length=1, max_length=128)
    ciphertext: Base64Text | None = None
    cipherkey: Base64Text | None = None
    iv: Base64Text | None = None
    usage: UsageIn = Field(default_factory=UsageIn)
    failure: NodeFailure | None = None

    @field_validator("ciphertext", "cipherkey", "iv")
    @classmethod
    def _standard_base64(cls, value: str | None) -> str | None:
        return value if value is None else standard_base64(value)

    @model_validator(mode="after")
    def _answer_or_failure(self) -> NodeResultIn:
        sealed = [self.ciphertext, self.cipherkey, self.iv]
        if self.failure is None and not all(sealed):
            raise ValueError("send ciphertext, cipherkey and iv, or a failure reason")
        if self.failure is not None and any(sealed):
            raise ValueError("send either a sealed answer or a failure, not both")
        return self


class NodeResultStored(BaseModel):
    status: Literal["stored"] = "stored"
