"""`tokenplace up` under a supervisor: ready at any log level and format, stopped with
all its children by SIGTERM or SIGINT at any moment, and no orphans when it is killed.

Every test uses the echo engine and free ports (`--port 0`, the banner says which).
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from tests.support.up_process import FREE_PORTS, UpProcess, up_env, wait_gone

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="finds `up`'s children through /proc and pidfd"
)

STOP_BUDGET_SECONDS = 10.0  # SIGTERM to `up` -> `up` and all three children gone
ORPHAN_BUDGET_SECONDS = 8.0  # `up` SIGKILLed -> its children notice and stop
UP_ECHO = ["up", "--engine", "echo", *FREE_PORTS]

Launch = Callable[..., Awaitable[UpProcess]]


@pytest.fixture
async def launch(tmp_path: Path) -> AsyncIterator[Launch]:
    """Starts `tokenplace <argv>`; whatever a test leaves running is killed after it."""
    started: list[UpProcess] = []

    async def start(argv: list[str], **env: str) -> UpProcess:
        up = await UpProcess.start(argv, up_env(tmp_path, **env))
        started.append(up)
        return up

    try:
        yield start
    finally:
        for up in started:
            await up.cleanup()


async def stop_and_check(up: UpProcess, sig: signal.Signals = signal.SIGTERM) -> None:
    """Send `sig` to `up`: it and every child it started end within the budget, `up` with 0."""
    children = up.children()
    up.process.send_signal(sig)
    async with asyncio.timeout(STOP_BUDGET_SECONDS):
        code = await up.wait_exit()
        children |= up.children()  # started after the snapshot, as `up` logged them
        for pid in children:
            await wait_gone(pid)
    assert code == 0, up.output


def base_url(banner: str) -> str:
    match = re.search(r"OpenAI base URL: (http://\S+/v1)", banner)
    assert match, banner
    return match.group(1)


async def test_up_at_warning_level_is_ready_serves_and_stops(launch: Launch) -> None:
    up = await launch(["--log-level", "WARNING", *UP_ECHO])
    banner = await up.banner()
    assert '"model": "echo"' in banner  # from the node's ready message
    assert " INFO " not in banner
    async with httpx.AsyncClient(base_url=base_url(banner), timeout=30) as http:
        reply = await http.post(
            "/chat/completions",
            json={"model": "echo", "messages": [{"role": "user", "content": "hello there"}]},
        )
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"] == "echo: hello there"
    assert len(up.children()) == 3
    await stop_and_check(up)


async def test_up_with_json_logs_is_ready_and_tags_every_line(launch: Launch) -> None:
    up = await launch(["--log-format", "json", *UP_ECHO])
    banner = await up.banner()
    head = banner[: banner.index("token.place is up")]
    entries = [json.loads(line) for line in head.splitlines() if line.strip()]
    assert {entry.get("child") for entry in entries} >= {"relay", "gateway", "node"}
    assert any(entry.get("message") == "registered with relay" for entry in entries)
    await stop_and_check(up)


@pytest.mark.parametrize(
    "moment",
    [
        "started the relay",  # the first child exists, still importing
        "started the node",  # relay ready; gateway and node starting
        "Waiting for application startup.",  # the gateway is in its lifespan startup
    ],
)
async def test_sigterm_while_starting_stops_everything(launch: Launch, moment: str) -> None:
    up = await launch(UP_ECHO)
    await up.line_with(moment)
    await stop_and_check(up)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signal_while_running_stops_everything(launch: Launch, sig: signal.Signals) -> None:
    up = await launch(UP_ECHO)
    await up.banner()
    await stop_and_check(up, sig)
    assert "stopping" in up.output


async def test_sigterm_during_a_job_stops_everything_in_time(launch: Launch) -> None:
    """A job that would run 20 s more: the node fails it after its grace, the caller
    gets an error at once (never a hang) and everything is gone within the budget."""
    up = await launch(UP_ECHO, TOKENPLACE_NODE_ECHO_TOKEN_DELAY_SECONDS="0.5")
    banner = await up.banner()
    words = " ".join(f"w{i}" for i in range(40))
    body = {"model": "echo", "messages": [{"role": "user", "content": words}]}
    async with httpx.AsyncClient(base_url=base_url(banner), timeout=30) as http:
        asking = asyncio.create_task(http.post("/chat/completions", json=body))
        await up.line_with("job dispatched")  # the relay's log: the node has the job
        await stop_and_check(up)
        assert asking.done()  # the gateway answered before it stopped
        reply = asking.result()
    assert reply.status_code == 503, reply.text
    assert reply.headers.get("retry-after")


async def test_children_stop_by_themselves_when_up_is_killed(launch: Launch) -> None:
    up = await launch(UP_ECHO)
    await up.banner()
    children = up.children()
    assert len(children) == 3
    up.process.kill()
    await up.wait_exit()
    async with asyncio.timeout(ORPHAN_BUDGET_SECONDS):
        for pid in children:
            await wait_gone(pid)


async def test_a_child_failing_alone_stops_up_with_an_error(launch: Launch) -> None:
    with socket.socket() as taken:  # the gateway's port is in use: it exits at start
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        up = await launch(["up", "--engine", "echo", *FREE_PORTS, "--port", port])
        async with asyncio.timeout(STOP_BUDGET_SECONDS * 3):
            code = await up.wait_exit()
            for pid in up.children():
                await wait_gone(pid)
    assert code == 1
    assert "tokenplace up: the gateway exited with code" in up.output
    assert "token.place is up" not in up.output
