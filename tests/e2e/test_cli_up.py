"""`tokenplace up` as a user runs it: three processes, a banner, the real model, clean exit."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import openai
import pytest

from tests.support.processes import ROOT

pytest.importorskip("llama_cpp", reason="the llama-cpp extra is not installed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_up_serves_the_bundled_model_and_stops_cleanly(tmp_path: Path) -> None:
    relay_port, gateway_port = free_port(), free_port()
    env = {
        **os.environ,
        "TOKENPLACE_NODE_KEY_PATH": str(tmp_path / "node.pem"),
        "TOKENPLACE_GATEWAY_KEY_PATH": str(tmp_path / "gateway.pem"),
        "TOKENPLACE_RELAY_PORT": str(relay_port),  # env var, as documented
        "TOKENPLACE_RELAY_METRICS_PORT": "0",  # a free port, not the shared default 9464
        "TOKENPLACE_RELAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'relay.sqlite3'}",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tokenplace.cli.main",
        "up",
        "--port",
        str(gateway_port),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        async with asyncio.timeout(60):
            async for raw in process.stdout:
                output.append(raw.decode())
                if "token.place is up" in output[-1]:
                    break
        banner = "".join(output)
        assert f"http://127.0.0.1:{gateway_port}/v1" in banner
        assert f"127.0.0.1:{relay_port}" in banner
        client = openai.AsyncOpenAI(
            base_url=f"http://127.0.0.1:{gateway_port}/v1", api_key="unused"
        )
        reply = await client.chat.completions.create(
            model="smollm2-135m-instruct",
            temperature=0,
            messages=[{"role": "user", "content": "What is the capital of Germany?"}],
        )
        assert "Berlin" in (reply.choices[0].message.content or "")
        assert oct((tmp_path / "node.pem").stat().st_mode & 0o777) == "0o600"
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        drain = asyncio.create_task(process.stdout.read()) if process.stdout else None
        async with asyncio.timeout(20):
            code = await process.wait()
        if drain is not None:
            await drain
    assert code == 0
    for port in (gateway_port, relay_port):  # every child is gone: nobody listens any more
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
