"""Every tokenplace process runs on uvloop where it is installed, and on asyncio's own
loop where it is not (Windows), with the same result."""

from __future__ import annotations

import asyncio
import sys

import pytest

from tokenplace.cli import event_loop


async def _running_loop_module() -> str:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not installed on Windows")
def test_processes_run_on_uvloop() -> None:
    assert event_loop.run(_running_loop_module()).startswith("uvloop")


def test_falls_back_to_asyncio_without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # makes `import uvloop` fail
    assert event_loop.run(_running_loop_module()).startswith("asyncio")


def test_name_says_which_loop_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = event_loop.run(_running_loop_module()).split(".")[0]
    assert event_loop.name().split()[0] == expected
    monkeypatch.setitem(sys.modules, "uvloop", None)
    assert event_loop.name() == "asyncio"
