"""The engine interface every model backend implements.

An engine is a class with `from_settings(settings) -> Engine` (see EngineFactory),
named by one entry point in the `tokenplace.engines` group (see registry.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from tokenplace.node.config import NodeSettings


class GenerationCancelled(Exception):
    """Generation stopped between tokens because the job was cancelled."""


class ContextTooLong(ValueError):
    """The prompt plus max_tokens does not fit the model's context window."""


class EngineUnavailable(RuntimeError):
    """The engine cannot start here. str() is one line: why, and what to do.

    For what an operator can fix (a package to install, a model file that is not
    one the engine reads), not for bugs: `tokenplace node` prints it alone on
    stderr, without a traceback, and exits with status 2.
    """


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


class EngineFactory(Protocol):
    """What a `tokenplace.engines` entry point names: in practice the engine class.

    `from_settings` loads the model and returns a ready engine, raising
    EngineUnavailable for what the operator must fix. The engine module is imported
    only once it is chosen, so it may import its optional packages at the top;
    engine-specific settings can come from its own environment variables
    (NodeSettings ignores unknown `TOKENPLACE_NODE_*` names).
    """

    def from_settings(self, settings: NodeSettings) -> Engine: ...
