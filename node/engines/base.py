"""The engine interface every model backend implements."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


class GenerationCancelled(Exception):
    """Generation stopped between tokens because the job was cancelled."""


class ContextTooLong(ValueError):
    """The prompt plus max_tokens does not fit the model's context window."""


@dataclass(frozen=True, slots=True)
class ModelCard:
    id: str
    owned_by: str
    created: int


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    kind: Literal["chat", "completion"]
    messages: list[dict[str, Any]] = field(default_factory=list)
    prompt: str = ""
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class Generation:
    text: str
    finish_reason: Literal["stop", "length"]
    prompt_tokens: int
    completion_tokens: int


class Engine(Protocol):
    """A loaded model. `generate` blocks and must be safe to call from `slots` threads."""

    name: str
    version: str
    model: ModelCard
    slots: int

    def generate(self, request: GenerationRequest, cancelled: threading.Event) -> Generation: ...

    def close(self) -> None: ...
