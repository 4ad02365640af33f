"""EchoEngine: a deterministic fake for fast tests and latency benchmarks.

It answers "echo: <last user text>" word by word, honouring max_tokens, stop
sequences and cancellation exactly as a real engine would. Not a model.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Literal

from tokenplace.node.engines.base import (
    Generation,
    GenerationCancelled,
    GenerationRequest,
    ModelCard,
)

if TYPE_CHECKING:
    from tokenplace.node.config import NodeSettings

ECHO_MODEL = ModelCard(id="echo", owned_by="token.place", created=1_700_000_000)


class EchoEngine:
    name = "echo"
    version = "1"

    def __init__(self, slots: int = 4, token_delay_seconds: float = 0.0, model_id: str = "echo"):
        self.slots = slots
        self.token_delay_seconds = token_delay_seconds
        self.model = ModelCard(
            id=model_id, owned_by=ECHO_MODEL.owned_by, created=ECHO_MODEL.created
        )

    @classmethod
    def from_settings(cls, settings: NodeSettings) -> EchoEngine:
        return cls(
            slots=settings.slots,
            token_delay_seconds=settings.echo_token_delay_seconds,
            model_id=settings.model_id or ECHO_MODEL.id,
        )

    def generate(self, request: GenerationRequest, cancelled: threading.Event) -> Generation:
        source = _prompt_text(request)
        words = ("echo: " + _last_user_text(request)).split()
        limit = request.max_tokens if request.max_tokens is not None else len(words)
        emitted: list[str] = []
        for word in words[:limit]:
            if self._interrupted(cancelled):
                raise GenerationCancelled
            emitted.append(word)
            if _hit_stop(" ".join(emitted), request.stop):
                text = _cut_at_stop(" ".join(emitted), request.stop)
                return Generation(text, "stop", len(source.split()), len(emitted))
        finish: Literal["stop", "length"] = "length" if limit < len(words) else "stop"
        return Generation(" ".join(emitted), finish, len(source.split()), len(emitted))

    def _interrupted(self, cancelled: threading.Event) -> bool:
        """Waits one token's time (if any); True when the job was cancelled meanwhile."""
        if self.token_delay_seconds:
            return cancelled.wait(self.token_delay_seconds)
        return cancelled.is_set()

    def close(self) -> None:
        return None


def _last_user_text(request: GenerationRequest) -> str:
    if request.kind == "completion":
        return request.prompt
    for message in reversed(request.messages):
        if message.get("role") == "user":
            return str(message.get("content") or "")
    return ""


def _prompt_text(request: GenerationRequest) -> str:
    if request.kind == "completion":
        return request.prompt
    return " ".join(str(m.get("content") or "") for m in request.messages)


def _hit_stop(text: str, stops: tuple[str, ...]) -> bool:
    return any(stop in text for stop in stops)


def _cut_at_stop(text: str, stops: tuple[str, ...]) -> str:
    cut = min((text.index(s) for s in stops if s in text), default=len(text))
    return text[:cut]
