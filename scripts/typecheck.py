"""Type-check the package with mypy as it is installed: `tokenplace.*`.

setup.py maps each top-level folder to `tokenplace.<part>`; mypy knows no such
mapping (nor setuptools' editable-install finder), so this builds a tree of
symlinks, build/typecheck/tokenplace/<part> -> <part>/, and checks that package
with the settings in pyproject.toml ([tool.mypy]). Exit status: mypy's.

Usage: python scripts/typecheck.py [MYPY_ARGS...]
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREE = ROOT / "build" / "typecheck"


def layout() -> tuple[str, tuple[str, ...]]:
    """setup.py's ROOT and PARTS (read, not imported: importing it would build)."""
    found: dict[str, object] = {}
    for node in ast.parse((ROOT / "setup.py").read_text()).body:
        target = node.targets[0] if isinstance(node, ast.Assign) else None
        if isinstance(target, ast.Name) and target.id in ("ROOT", "PARTS"):
            found[target.id] = ast.literal_eval(node.value)
    root, parts = found["ROOT"], found["PARTS"]
    assert isinstance(root, str) and isinstance(parts, tuple)
    return root, parts


def link_tree() -> Path:
    package_root, parts = layout()
    package = TREE / "tokenplace"
    shutil.rmtree(TREE, ignore_errors=True)
    package.mkdir(parents=True)
    for entry in (ROOT / package_root).iterdir():  # __init__.py and v1/
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for part in parts:
        (package / part).symlink_to(ROOT / part)
    return TREE


def main() -> int:
    tree = link_tree()
    env = {**os.environ, "MYPYPATH": str(tree)}
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
    return subprocess.run([*command, "-p", "tokenplace", *sys.argv[1:]], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
