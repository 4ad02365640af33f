"""Structured logs: the JSON formatter, the CLI flags, and a real relay process."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.network import LocalNetwork
from tests.support.processes import ROOT
from tests.support.prometheus import Samples
from tokenplace.cli.logs import JsonFormatter, KeyValueFormatter, make_formatter
from tokenplace.cli.main import build_parser
from tokenplace.cli.metrics_flag import DEFAULT_METRICS_PORT, relay_metrics_port


def record(message: str, **extra: object) -> logging.LogRecord:
    entry = logging.LogRecord(
        "tokenplace.relay.jobs", logging.DEBUG, __file__, 1, message, (), None
    )
    entry.__dict__.update(extra)
    return entry


def test_json_lines_carry_time_level_logger_message_and_extras() -> None:
    line = JsonFormatter().format(record("job finished", job_id="j1", duration_ms=1.5))
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "DEBUG" and entry["logger"] == "tokenplace.relay.jobs"
    assert entry["message"] == "job finished"
    assert entry["job_id"] == "j1" and entry["duration_ms"] == 1.5
    assert entry["time"].endswith("+00:00") and "T" in entry["time"]


def test_json_extras_never_replace_the_standard_keys_and_odd_values_are_strings() -> None:
    entry = json.loads(JsonFormatter().format(record("hello", level="fake", path=Path("/x"))))
    assert entry["level"] == "DEBUG"
    assert entry["path"] == "/x"


def test_json_includes_the_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        entry = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "ValueError: boom" in json.loads(JsonFormatter().format(entry))["exception"]


def test_formats_by_name() -> None:
    assert isinstance(make_formatter("json"), JsonFormatter)
    assert isinstance(make_formatter("text"), KeyValueFormatter)
    with pytest.raises(ValueError):
        make_formatter("xml")


def test_log_format_flag_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert build_parser().parse_args(["relay"]).log_format == "text"
    assert build_parser().parse_args(["--log-format", "json", "relay"]).log_format == "json"
    monkeypatch.setenv("TOKENPLACE_LOG_FORMAT", "json")
    assert build_parser().parse_args(["relay"]).log_format == "json"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--log-format", "yaml", "relay"])


def test_relay_metrics_port_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKENPLACE_RELAY_METRICS_PORT", raising=False)
    args = build_parser().parse_args(["relay"])
    assert relay_metrics_port(args.metrics_port) == DEFAULT_METRICS_PORT
    args = build_parser().parse_args(["relay", "--metrics-port", "off"])
    assert relay_metrics_port(args.metrics_port) is None
    args = build_parser().parse_args(["up", "--metrics-port", "9100"])
    assert relay_metrics_port(args.metrics_port) == 9100
    monkeypatch.setenv("TOKENPLACE_RELAY_METRICS_PORT", "off")
    assert relay_metrics_port(None) is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["relay", "--metrics-port", "seven"])


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The root logger's INFO+ records as JSON lines, as `--log-format json` writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


async def test_gateway_request_lines_parse_as_json_with_request_id_and_timing(
    echo_network: LocalNetwork, json_lines: io.StringIO
) -> None:
    gateway = echo_network.gateways[0]
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
        reply = await http.post(
            "/v1/chat/completions",
            headers={"X-Request-ID": "client-trace-7"},
            json={"model": "echo", "messages": [{"role": "user", "content": "quiet words"}]},
        )
    assert reply.headers["x-request-id"] == "client-trace-7"
    entries = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    [finished] = [e for e in entries if e["logger"] == "tokenplace.gateway.requests"]
    assert finished["request_id"] == "client-trace-7"
    assert finished["route"] == "/v1/chat/completions" and finished["status"] == 200
    assert finished["duration_ms"] > 0
    assert "quiet words" not in json_lines.getvalue()


async def test_relay_process_logs_json_and_serves_metrics(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TOKENPLACE_RELAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'relay.sqlite3'}",
    }
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tokenplace.cli.main", "--log-format", "json"),
        *("relay", "--port", "0", "--metrics-port", "0"),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        async with asyncio.timeout(30):
            while "Prometheus metrics at" not in (
                line := (await process.stdout.readline()).decode()
            ):
                assert line, "the relay exited before it printed its metrics address"
        url = line.rsplit(" ", 1)[1].strip()
        async with httpx.AsyncClient(timeout=5) as http:
            metrics = Samples((await http.get(url)).text)
        assert metrics.value("tokenplace_relay_nodes_online") == 0
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            _, stderr = await process.communicate()
    assert process.returncode == 0
    entries = [json.loads(line) for line in stderr.decode().splitlines() if line.strip()]
    assert any(e["message"] == "relay listening" and "address" in e for e in entries)
