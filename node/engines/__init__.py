"""Model engines behind one interface (see base.Engine)."""

from __future__ import annotations

from node.config import NodeSettings
from node.engines.base import Engine


def create_engine(settings: NodeSettings) -> Engine:
    """Build the engine the settings ask for; the real model loads here, not at import."""
    if settings.engine == "echo":
        from node.engines.echo import EchoEngine

        return EchoEngine(
            slots=settings.slots,
            token_delay_seconds=settings.echo_token_delay_seconds,
            model_id=settings.model_id or "echo",
        )
    from node.engines.llama_cpp import LlamaCppEngine

    return LlamaCppEngine.from_settings(settings)
