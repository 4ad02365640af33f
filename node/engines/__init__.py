"""Model engines behind one interface (see base.Engine), found by name in registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokenplace.node.engines.base import Engine
from tokenplace.node.engines.registry import load_engine_factory

if TYPE_CHECKING:
    from tokenplace.node.config import NodeSettings


def create_engine(settings: NodeSettings) -> Engine:
    """Build the engine the settings name: its module is imported and its model loaded
    here, not before. Raises EngineUnavailable (one line) for what the operator must fix."""
    return load_engine_factory(settings.engine).from_settings(settings)
