"""Requests and responses of the completion routes (OpenAI's shapes) and of async jobs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tokenplace.e2ee.payload import SamplingOptions
from tokenplace.gateway.protocol import EncryptedPayload, ErrorDetail, SealedData


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


class EncryptedResponse(BaseModel):
    encrypted: Literal[True] = True
    data: SealedData


class JobStatus(BaseModel):
    """An async chat completion (Token Router's jobs)."""

    id: str
    object: Literal["job"] = "job"
    status: Literal["queued", "running", "completed", "failed"]
    result: ChatCompletion | None = None
    error: ErrorDetail | None = None
