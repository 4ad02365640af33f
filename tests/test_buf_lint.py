"""`buf lint` (STANDARD, per buf.yaml) passes on the relay protos.

buf ships as an npm package with its binary inside; where npm exists the test
installs it into a user cache, elsewhere it skips and says why.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUF_VERSION = "1.75.0"
CACHE = Path.home() / ".cache" / "tokenplace" / f"buf-{BUF_VERSION}"


def buf_binary() -> Path:
    found = shutil.which("buf")
    if found:
        return Path(found)
    cached = CACHE / "node_modules" / ".bin" / "buf"
    if cached.exists():
        return cached
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("buf is not installed and npm is not available to install it")
    subprocess.run(
        [npm, "install", "--silent", "--prefix", str(CACHE), f"@bufbuild/buf@{BUF_VERSION}"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return cached


def test_buf_lint_standard_passes() -> None:
    result = subprocess.run(
        [str(buf_binary()), "lint"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"buf lint found problems:\n{result.stdout}{result.stderr}"
