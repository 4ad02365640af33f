"""The sealed inner payloads of DESIGN.md: what a gateway or blind client encrypts
to a node, and what the node encrypts back.

Request:  {"request_id", "client_public_key", "request": {model, messages | prompt, options}}
Response: {"request_id", "response": <chat.completion | text_completion>}
       or {"request_id", "error": {"message", "type", "param", "code"}}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_STOP_SEQUENCES = 4
MAX_TOKENS_LIMIT = 32_768


class SamplingOptions(BaseModel):
    """The standard OpenAI sampling parameters, validated identically everywhere."""

    max_tokens: Annotated[int, Field(ge=1, le=MAX_TOKENS_LIMIT)] | None = None
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = None
    top_p: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    stop: str | list[str] | None = None
    seed: int | None = None

    @field_validator("stop")
    @classmethod
    def _check_stop(cls, value: str | list[str] | None) -> str | list[str] | None:
        sequences = [value] if isinstance(value, str) else value or []
        if len(sequences) > MAX_STOP_SEQUENCES:
            raise ValueError(f"at most {MAX_STOP_SEQUENCES} stop sequences are allowed")
        if any(not s for s in sequences):
            raise ValueError("stop sequences must be non-empty strings")
        return value

    def stop_sequences(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str
    name: str | None = None


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    messages: list[ChatMessage] | None = Field(default=None, min_length=1)
    prompt: str | None = None
    options: SamplingOptions = Field(default_factory=SamplingOptions)

    @model_validator(mode="after")
    def _one_input(self) -> JobRequest:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("a request carries exactly one of messages or prompt")
        return self

    @property
    def kind(self) -> Literal["chat", "completion"]:
        return "chat" if self.messages is not None else "completion"


class InnerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(min_length=1)
    client_public_key: str = Field(min_length=1)
    request: JobRequest


class InnerError(BaseModel):
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None


class InnerResponse(BaseModel):
    request_id: str
    response: dict[str, Any] | None = None
    error: InnerError | None = None
