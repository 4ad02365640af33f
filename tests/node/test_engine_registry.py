"""Engines are found through the `tokenplace.engines` entry points, imported only when chosen."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.support.processes import ROOT
from tokenplace.cli.main import build_parser
from tokenplace.node.config import NodeSettings
from tokenplace.node.engines import create_engine
from tokenplace.node.engines.base import EngineUnavailable
from tokenplace.node.engines.echo import EchoEngine
from tokenplace.node.engines.registry import (
    ENTRY_POINT_GROUP,
    UnknownEngine,
    check_engine_name,
    engine_names,
    installed_engines,
    load_engine_factory,
)

OUR_ENGINES = {"echo", "llama_cpp", "ctransformers"}


def test_this_projects_engines_are_installed_entry_points() -> None:
    assert set(engine_names()) >= OUR_ENGINES
    assert installed_engines()["echo"].value == "tokenplace.node.engines.echo:EchoEngine"
    assert engine_names() == sorted(engine_names())


def test_an_unknown_engine_is_refused_with_the_installed_ones_listed() -> None:
    with pytest.raises(UnknownEngine) as refused:
        check_engine_name("vllm")
    message = str(refused.value)
    assert "unknown engine 'vllm'" in message
    assert all(name in message for name in OUR_ENGINES)
    with pytest.raises(UnknownEngine):
        load_engine_factory("vllm")


def test_node_settings_validate_the_engine_against_the_registry(monkeypatch) -> None:
    assert NodeSettings(engine="ctransformers").engine == "ctransformers"
    with pytest.raises(ValidationError) as refused:
        NodeSettings(engine="vllm")
    assert "installed engines: ctransformers, echo, llama_cpp" in str(refused.value)
    monkeypatch.setenv("TOKENPLACE_NODE_ENGINE", "nope")
    with pytest.raises(ValidationError, match="unknown engine 'nope'"):
        NodeSettings()


@pytest.mark.parametrize("command", ["node", "up"])
def test_the_cli_offers_exactly_the_installed_engines(command: str, capsys) -> None:
    for name in engine_names():
        assert build_parser().parse_args([command, "--engine", name]).engine == name
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([command, "--engine", "vllm"])
    assert exited.value.code == 2
    assert "(choose from 'ctransformers', 'echo', 'llama_cpp')" in capsys.readouterr().err


def test_create_engine_builds_the_echo_engine_from_its_own_settings() -> None:
    settings = NodeSettings(
        engine="echo", slots=3, echo_token_delay_seconds=0.25, model_id="parrot"
    )
    engine = create_engine(settings)
    assert isinstance(engine, EchoEngine)
    assert (engine.slots, engine.token_delay_seconds, engine.model.id) == (3, 0.25, "parrot")


def test_listing_and_validating_engines_imports_none_of_them() -> None:
    """`--help` and settings validation must not need (or pay for) any engine's packages."""
    code = textwrap.dedent(
        """
        import sys
        from tokenplace.cli.main import build_parser
        from tokenplace.node.config import NodeSettings
        build_parser().format_help()
        NodeSettings(engine="ctransformers")
        NodeSettings(engine="llama_cpp")
        heavy = ("ctransformers", "llama_cpp", "tokenizers", "gguf", "jinja2")
        print(sorted(m for m in sys.modules if m.split(".")[0] in heavy
                     or m.startswith("tokenplace.node.engines.")))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = done.stdout.strip()
    assert loaded == "['tokenplace.node.engines.base', 'tokenplace.node.engines.registry']"


# --- a third party's engine, from its own package's entry point -------------------------

ACME_MODULE = """
from tokenplace.node.engines.echo import EchoEngine


class AcmeEngine(EchoEngine):
    name = "acme"

    @classmethod
    def from_settings(cls, settings):
        return cls(slots=settings.slots, model_id="acme-1")
"""


@pytest.fixture
def acme_installed(tmp_path: Path, monkeypatch) -> str:
    """A package `acme-engine` on sys.path declaring engine `acme`, as pip would install it."""
    (tmp_path / "acme_engine.py").write_text(ACME_MODULE)
    dist_info = tmp_path / "acme_engine-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-engine\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nacme = acme_engine:AcmeEngine\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "acme_engine", raising=False)
    yield "acme"
    sys.modules.pop("acme_engine", None)


def test_a_third_party_package_adds_an_engine_with_one_entry_point(acme_installed) -> None:
    assert "acme" in engine_names()
    assert build_parser().parse_args(["node", "--engine", "acme"]).engine == "acme"
    settings = NodeSettings(engine="acme", slots=2)
    assert "acme_engine" not in sys.modules  # named and validated, not yet imported
    engine = create_engine(settings)
    assert (engine.name, engine.model.id, engine.slots) == ("acme", "acme-1", 2)


def test_an_engine_whose_module_does_not_import_is_unavailable_in_one_line(
    acme_installed, tmp_path: Path
) -> None:
    (tmp_path / "acme_engine.py").write_text("import acme_native_bindings\n")
    with pytest.raises(EngineUnavailable) as unavailable:
        create_engine(NodeSettings(engine="acme"))
    message = str(unavailable.value)
    assert "\n" not in message
    assert "acme_engine:AcmeEngine" in message and "acme_native_bindings" in message
