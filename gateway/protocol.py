"""HTTP types every API area shares: the OpenAI error shape, and envelopes on the JSON
wire (standard base64 fields) with the rule that relay routes carry ciphertext only."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

PLAINTEXT_FIELDS = ("messages", "prompt", "input", "content", "response", "text")
RequestId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
PublicKeyText = Annotated[str, Field(min_length=1, max_length=8192)]
# Canonical standard base64 (RFC 4648 section 4, padded): checked and documented alike.
STANDARD_BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_STANDARD_BASE64 = re.compile(STANDARD_BASE64)
Base64Text = Annotated[str, Field(json_schema_extra={"pattern": STANDARD_BASE64})]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class EncryptedPayload(BaseModel):
    """An E2EE envelope on the JSON wire: standard base64 fields."""

    model_config = ConfigDict(extra="ignore")

    ciphertext: str = Field(min_length=1)
    cipherkey: str = Field(min_length=1)
    iv: str = Field(min_length=1)


class SealedData(EncryptedPayload):
    encrypted: Literal[True] = True


class NodeUnregistered(BaseModel):
    """A compute node removed (by itself, over HTTP, or by an operator)."""

    message: str = "Server unregistered"
    removed: bool


class CiphertextOnly(BaseModel):
    """A relay route's body: a plaintext-like field, or any undocumented one, is a 400."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_plaintext(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in PLAINTEXT_FIELDS:
                if name in data:
                    raise PydanticCustomError(
                        "plaintext_forbidden",
                        "plaintext field '{field}' is forbidden on relay routes: "
                        "send only the ciphertext envelope",
                        {"field": name},
                    )
        return data


def standard_base64(value: str) -> str:
    if not _STANDARD_BASE64.fullmatch(value):
        raise ValueError("must be standard base64")
    return value


class EnvelopeFields(CiphertextOnly):
    ciphertext: Base64Text = Field(min_length=1)
    cipherkey: Base64Text = Field(min_length=1)
    iv: Base64Text = Field(min_length=1)

    @field_validator("ciphertext", "cipherkey", "iv")
    @classmethod
    def _standard_base64(cls, value: str) -> str:
        return standard_base64(value)
