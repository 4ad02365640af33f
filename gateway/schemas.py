"""Pydantic models of the OpenAI-compatible HTTP API (requests and documented responses)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tokenplace.e2ee.payload import SamplingOptions


class ContentPart(BaseModel):
    type: Literal["text"]
    text: str


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class EncryptedPayload(BaseModel):
    """An E2EE envelope on the JSON wire: standard base64 fields."""

    model_config = ConfigDict(extra="ignore")

    ciphertext: str = Field(min_length=1)
    cipherkey: str = Field(min_length=1)
    iv: str = Field(min_length=1)


class _CompletionBase(SamplingOptions):
    # Unknown OpenAI parameters are ignored, as vLLM and OpenAI-compatible servers do.
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=256)
    stream: bool | None = False
    n: int | None = Field(default=None, ge=1)
    user: str | None = None
    encrypted: bool = False
    client_public_key: str | None = None

    @field_validator("stream")
    @classmethod
    def _no_streaming(cls, value: bool | None) -> bool | None:
        if value:
            raise ValueError("streaming is not supported by API v1; omit stream or send false")
        return value

    @field_validator("n")
    @classmethod
    def _single_choice(cls, value: int | None) -> int | None:
        if value not in (None, 1):
            raise ValueError("only n = 1 is supported")
        return value


class ChatCompletionRequest(_CompletionBase):
    messages: Annotated[list[ChatMessageIn], Field(min_length=1)] | EncryptedPayload
    # Relay-blind synchronous mode: `messages` is sealed to this node's key (the inner
    # payload of DESIGN.md), forwarded untouched; the node's sealed answer comes back.
    server_public_key: str | None = Field(default=None, max_length=8192)
    request_id: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$"
    )


class CompletionRequest(_CompletionBase):
    prompt: str | list[str] | EncryptedPayload


class ModelPermission(BaseModel):
    id: str
    object: Literal["model_permission"] = "model_permission"
    created: int
    allow_create_engine: bool = False
    allow_sampling: bool = True
    allow_logprobs: bool = True
    allow_search_indices: bool = False
    allow_view: bool = True
    allow_fine_tuning: bool = False
    organization: str = "*"
    group: str | None = None
    is_blocking: bool = False


class ModelObject(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    permission: list[ModelPermission]
    root: str
    parent: str | None = None


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelObject]


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatChoice(BaseModel):
    index: int
    message: dict[str, Any]
    logprobs: Any = None
    finish_reason: str


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage


class TextChoice(BaseModel):
    index: int
    text: str
    logprobs: Any = None
    finish_reason: str


class TextCompletion(BaseModel):
    id: str
    object: Literal["text_completion"]
    created: int
    model: str
    choices: list[TextChoice]
    usage: Usage


class SealedData(EncryptedPayload):
    encrypted: Literal[True] = True


class EncryptedResponse(BaseModel):
    encrypted: Literal[True] = True
    data: SealedData


class PublicKeyResponse(BaseModel):
    public_key: str


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    service: str
    timestamp: str
    relay: Literal["reachable", "unreachable"]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class JobStatus(BaseModel):
    """An async chat completion (Token Router's jobs)."""

    id: str
    object: Literal["job"] = "job"
    status: Literal["queued", "running", "completed", "failed"]
    result: ChatCompletion | None = None
    error: ErrorDetail | None = None
