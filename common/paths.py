"""Where token.place keeps its files (keys, the relay's SQLite database) by default."""

from __future__ import annotations

import os
from pathlib import Path


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/tokenplace, else ~/.local/share/tokenplace."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "tokenplace"
