"""The package as a user installs it: a wheel with one top-level package, `tokenplace`,
and roles as extras. Each test installs the wheel into a fresh venv (not editable), from
the package index or pip's cache, and runs the installed `tokenplace` command."""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import openai
import pytest

from tests.support.network import LocalNetwork
from tests.support.processes import ROOT
from tests.support.up_process import FREE_PORTS, UpProcess, up_env, wait_gone

pytestmark = pytest.mark.packaging
INSTALL_TIMEOUT_SECONDS = 600
STOP_SECONDS = 10


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of the checkout's files (tracked, or new and not ignored), as a
    clean clone would build it: an in-tree build/ left by an earlier build could ship
    modules that no longer exist."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "-w", str(out), str(source)], check=True, timeout=300)
    [built] = out.glob("tokenplace-*.whl")
    return built


def installed(wheel: Path, where: Path, extras: str) -> Path:
    """A fresh venv with `wheel[extras]` installed; returns its python."""
    venv.create(where, with_pip=True)
    python = where / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         f"{wheel}[{extras}]"],
        check=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
    )  # fmt: skip
    return python


def can_import(python: Path, module: str) -> bool:
    probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True, timeout=60)
    return probe.returncode == 0


def check_node_only(python: Path) -> None:
    for module in ("fastapi", "sqlalchemy", "asyncpg", "alembic", "grpc_tools"):
        assert not can_import(python, module), f"a node-only install has {module}"
    refused = subprocess.run(
        [python, "-m", "tokenplace.cli.main", "gateway"], capture_output=True, text=True
    )
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "tokenplace gateway: the gateway role is not installed (no module 'fastapi'): "
        "pip install 'tokenplace[gateway]'"
    )


def test_the_wheel_holds_one_top_level_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [top_level] = [name for name in names if name.endswith(".dist-info/top_level.txt")]
        assert archive.read(top_level).decode().split() == ["tokenplace"]
    roots = {name.split("/", 1)[0] for name in names if ".dist-info/" not in name}
    assert roots == {"tokenplace"}
    for part in ("v1/node_pb2.py", "gateway/app.py", "relay/server.py", "node/agent.py",
                 "client/relay.py", "cli/main.py", "e2ee/envelope.py",
                 "relay/store/migrations/script.py.mako", "py.typed",
                 "v1/inference_pb2_grpc.pyi"):  # fmt: skip
        assert f"tokenplace/{part}" in names, part


async def test_a_node_only_install_serves_without_gateway_or_relay_packages(
    wheel: Path, tmp_path: Path
) -> None:
    python = await asyncio.to_thread(installed, wheel, tmp_path / "venv", "node")
    await asyncio.to_thread(check_node_only, python)
    net = LocalNetwork(tmp_path)
    await net.start_relay()
    assert net.relay is not None
    node = await asyncio.create_subprocess_exec(
        python, "-m", "tokenplace.cli.main", "node", "--engine", "echo",
        "--relay", net.relay_address, "--key-path", str(tmp_path / "node.pem"),
        cwd=tmp_path,
    )  # fmt: skip
    try:
        async with asyncio.timeout(60):
            await net.relay.registry.wait_until(lambda: bool(net.relay.registry.online()))
        node.send_signal(signal.SIGTERM)
        async with asyncio.timeout(STOP_SECONDS):
            assert await node.wait() == 0
    finally:
        if node.returncode is None:
            node.kill()
            await node.wait()
        await net.stop()


async def test_a_full_install_runs_up_and_answers_the_openai_sdk(
    wheel: Path, tmp_path: Path
) -> None:
    python = await asyncio.to_thread(installed, wheel, tmp_path / "venv", "all")
    env = {key: value for key, value in up_env(tmp_path).items() if key != "PYTHONPATH"}
    tokenplace = str(python.parent / "tokenplace")  # the installed console script
    up = await UpProcess.start(
        ["up", "--engine", "echo", *FREE_PORTS], env, command=(tokenplace,), cwd=tmp_path
    )
    try:
        banner = await up.banner()
        [base_url] = re.findall(r"OpenAI base URL: (\S+)", banner)
        client = openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0)
        reply = await client.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "installed from a wheel"}]
        )
        assert reply.choices[0].message.content == "echo: installed from a wheel"
        children = up.children()
        assert len(children) == 3
        up.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(STOP_SECONDS):
            assert await up.wait_exit() == 0
            for pid in children:
                await wait_gone(pid)
    finally:
        await up.cleanup()
