"""Model engines behind one interface (see base.Engine)."""

from __future__ import annotations

from tokenplace.node.config import NodeSettings
from tokenplace.node.engines.base import Engine


def create_engine(settings: NodeSettings) -> Engine:
    """Build the engine the settings ask for; the real model loads here, not at import."""
    if settings.engine == "echo":
        from tokenplace.node.engines.echo import EchoEngine

        return EchoEngine(
            slots=settings.slots,
            token_delay_seconds=settings.echo_token_delay_seconds,
            model_id=settings.model_id or "echo",
        )
    from tokenplace.node.engines.llama_cpp import LlamaCppEngine

    return LlamaCppEngine.from_settings(settings)
