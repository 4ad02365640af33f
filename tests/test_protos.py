"""The committed generated protobuf code matches the .proto files; buf is configured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path("tokenplace/v1")
GENERATED_PATTERNS = ("*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py", "*_pb2_grpc.pyi")
SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")
FIX = "generated protobuf code is stale: run `make protos` and commit the result"


def generated_files(root: Path) -> dict[str, bytes]:
    """Relative name -> content of every generated file under root/tokenplace/v1."""
    package = root / PACKAGE
    return {
        path.name: path.read_bytes()
        for pattern in GENERATED_PATTERNS
        for path in package.glob(pattern)
    }


def regenerate(out_dir: Path) -> dict[str, bytes]:
    script = ROOT / "scripts" / "gen_protos.py"
    subprocess.run([sys.executable, str(script), str(out_dir)], check=True, cwd=ROOT, timeout=60)
    return generated_files(out_dir)


def test_committed_generated_code_matches_the_protos(tmp_path: Path) -> None:
    fresh = regenerate(tmp_path)
    committed = generated_files(ROOT / "protos")
    assert fresh, "gen_protos.py produced no files"
    missing = sorted(fresh.keys() - committed.keys())
    extra = sorted(committed.keys() - fresh.keys())
    assert not missing, f"{FIX} (missing: {missing})"
    assert not extra, f"{FIX} (no .proto generates: {extra})"
    stale = sorted(name for name in fresh if fresh[name] != committed[name])
    assert not stale, f"{FIX} (differs: {stale})"


def test_every_proto_has_its_generated_modules_and_stubs() -> None:
    protos = sorted(path.stem for path in (ROOT / "protos" / PACKAGE).glob("*.proto"))
    assert protos, "no .proto files found"
    expected = {f"{stem}{suffix}" for stem in protos for suffix in SUFFIXES}
    assert set(generated_files(ROOT / "protos")) == expected, FIX


def top_level_sections(text: str) -> dict[str, list[str]]:
    """A YAML-ish reading of a flat config: top-level key -> its inline value and body lines."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line[0].isspace() and ":" in line:
            key, _, value = line.partition(":")
            current = sections.setdefault(key.strip(), [])
            if value.strip():
                current.append(value.strip())
        else:
            current.append(line.strip())
    return sections


def use_rules(body: list[str]) -> list[str]:
    """The rule names listed under `use:` in a section body (block or flow style)."""
    rules: list[str] = []
    in_use = False
    for line in body:
        if line.startswith("use:"):
            inline = line.removeprefix("use:").strip().strip("[]")
            rules += [rule.strip() for rule in inline.split(",") if rule.strip()]
            in_use = True
        elif in_use and line.startswith("- "):
            rules.append(line.removeprefix("- ").strip())
        else:
            in_use = False
    return rules


def test_buf_yaml_declares_v2_module_lint_and_breaking_rules() -> None:
    buf = ROOT / "buf.yaml"
    assert buf.is_file(), "buf.yaml is missing at the repository root"
    sections = top_level_sections(buf.read_text())
    assert sections.get("version") == ["v2"]
    assert "- path: protos" in sections.get("modules", [])
    assert "STANDARD" in use_rules(sections.get("lint", []))
    assert "FILE" in use_rules(sections.get("breaking", []))
