"""A setting that does not validate ends a command with one line that names it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.processes import ROOT


@pytest.mark.parametrize(
    ("command", "variable", "value", "expected"),
    [
        (
            "node",
            "TOKENPLACE_NODE_ENGINE",
            "bogus",
            "tokenplace node: engine (--engine or TOKENPLACE_NODE_ENGINE): unknown engine "
            "'bogus'; installed engines: ",
        ),
        (
            "relay",
            "TOKENPLACE_RELAY_PORT",
            "abc",
            "tokenplace relay: port (--port or TOKENPLACE_RELAY_PORT): Input should be a "
            "valid integer",
        ),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2(
    command: str, variable: str, value: str, expected: str
) -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "tokenplace.cli.main", command],
        env={**os.environ, variable: value},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 2
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1, ran.stderr
    assert lines[0].startswith(expected), lines[0]
    assert "Traceback" not in ran.stderr
