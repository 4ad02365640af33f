"""An engine that cannot start ends `tokenplace node` with one line saying why, exit 2.

No traceback: a missing package or a wrong file is the operator's to fix, not a bug.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.ctransformers import require_bundled_model
from tests.support.processes import ROOT
from tokenplace.node.config import NodeSettings
from tokenplace.node.engines import create_engine
from tokenplace.node.engines.base import EngineUnavailable


def run_node(tmp_path: Path, *flags: str, hide: str | None = None) -> subprocess.CompletedProcess:
    """`tokenplace node` with a relay nobody listens on; `hide` makes a module unimportable."""
    argv = ["node", "--relay", "127.0.0.1:9", "--key-path", str(tmp_path / "key.pem"), *flags]
    code = textwrap.dedent(
        f"""
        import sys
        if {hide!r}:
            sys.modules[{hide!r}] = None  # as if it were not installed
        from tokenplace.cli.main import main
        sys.exit(main({argv!r}))
        """
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def assert_one_line(done: subprocess.CompletedProcess, *expected: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tokenplace node: ")
    for text in expected:
        assert text in lines[0]
    assert done.stdout == ""


@pytest.fixture
def not_a_model(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("hello, I am not a model\n")
    return path


def test_a_file_that_is_not_a_gguf(tmp_path: Path, not_a_model: Path) -> None:
    pytest.importorskip("ctransformers", reason="the ctransformers extra is not installed")
    done = run_node(tmp_path, "--engine", "ctransformers", "--model-path", str(not_a_model))
    assert_one_line(done, "notes.txt is not a GGUF file", "--model-path")


def test_ctransformers_not_installed(tmp_path: Path, not_a_model: Path) -> None:
    flags = ("--engine", "ctransformers", "--model-path", str(not_a_model))
    done = run_node(tmp_path, *flags, hide="ctransformers")
    assert_one_line(done, "no module 'ctransformers'", "pip install 'tokenplace[ctransformers]'")


def test_llama_cpp_not_installed(tmp_path: Path, not_a_model: Path) -> None:
    flags = ("--engine", "llama_cpp", "--model-path", str(not_a_model))
    done = run_node(tmp_path, *flags, hide="llama_cpp")
    assert_one_line(done, "no module 'llama_cpp'", "scripts/install_engine.sh")


# --- the messages themselves, in process ------------------------------------------------


@pytest.fixture(autouse=True)
def no_user_cache(tmp_path: Path, monkeypatch) -> None:
    """Should an engine get as far as its model cache, keep it out of ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def unavailable(monkeypatch, engine: str, hide: str = "", **settings: object) -> str:
    if hide:
        # Forget what is already imported, so that the engine's imports run again.
        for name in [m for m in sys.modules if m.split(".")[0] in (hide, "ctransformers")]:
            monkeypatch.delitem(sys.modules, name)
        monkeypatch.setitem(sys.modules, hide, None)
    with pytest.raises(EngineUnavailable) as raised:
        create_engine(NodeSettings(engine=engine, **settings))
    message = str(raised.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("module", ["ctransformers", "huggingface_hub", "tokenizers", "jinja2"])
def test_each_missing_package_of_the_extra_is_named(monkeypatch, module: str) -> None:
    if module != "ctransformers":  # the engine reads the model's tokenizer first
        require_bundled_model()
    message = unavailable(monkeypatch, "ctransformers", hide=module)
    assert f"no module {module!r}" in message


def test_a_missing_model_file(monkeypatch, tmp_path: Path) -> None:
    for engine in ("ctransformers", "llama_cpp"):
        message = unavailable(monkeypatch, engine, model_path=tmp_path / "gone.gguf")
        assert message.startswith(f"cannot read the model {tmp_path / 'gone.gguf'}: No such file")


def test_a_truncated_gguf(monkeypatch, tmp_path: Path) -> None:
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 40)
    message = unavailable(monkeypatch, "ctransformers", model_path=truncated)
    assert message == "cut.gguf is a truncated or corrupt GGUF file: check --model-path"


def test_too_many_slots_for_ctransformers(monkeypatch) -> None:
    message = unavailable(monkeypatch, "ctransformers", slots=17)
    assert "at most 16 slots" in message and "--slots" in message
