"""NodeAgent.stop(): running jobs finish within the grace or are failed retryably,
the stream closes, and run() returns; before registration it returns at once."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import httpx

from tests.support.network import LocalNetwork
from tests.support.network import test_key as cached_key
from tokenplace.node.agent import NodeAgent
from tokenplace.node.config import NodeSettings
from tokenplace.node.engines.base import Generation, GenerationRequest
from tokenplace.node.engines.echo import EchoEngine
from tokenplace.node.polling_agent import PollingNodeAgent


class WatchedEcho(EchoEngine):
    """The echo engine, telling the test when a generation starts and ends."""

    def __init__(self, token_delay_seconds: float) -> None:
        super().__init__(slots=1, token_delay_seconds=token_delay_seconds)
        self.loop = asyncio.get_running_loop()
        self.started = asyncio.Event()
        self.generating = threading.Event()

    def generate(self, request: GenerationRequest, cancelled: threading.Event) -> Generation:
        self.generating.set()
        self.loop.call_soon_threadsafe(self.started.set)
        try:
            return super().generate(request, cancelled)
        finally:
            self.generating.clear()


def chat(words: int) -> dict[str, object]:
    content = " ".join(f"w{i}" for i in range(words))
    return {"model": "echo", "messages": [{"role": "user", "content": content}]}


async def stop_during_a_job(
    network: LocalNetwork, engine: WatchedEcho, words: int, grace: float
) -> tuple[httpx.Response, float]:
    node = await network.start_node(engine, stop_grace_seconds=grace)
    gateway = await network.start_gateway()
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
        asking = asyncio.create_task(http.post("/v1/chat/completions", json=chat(words)))
        async with asyncio.timeout(10):
            await engine.started.wait()
        started = time.monotonic()
        node.agent.stop()
        async with asyncio.timeout(grace + 5):
            await node.task  # run() returned: no cancellation needed
        took = time.monotonic() - started
        async with asyncio.timeout(10):
            reply = await asking
    return reply, took


async def test_a_job_shorter_than_the_grace_is_answered(network: LocalNetwork) -> None:
    engine = WatchedEcho(token_delay_seconds=0.05)
    reply, took = await stop_during_a_job(network, engine, words=5, grace=5.0)
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"].startswith("echo: w0")
    assert took < 3


async def test_a_job_longer_than_the_grace_fails_retryably(network: LocalNetwork) -> None:
    engine = WatchedEcho(token_delay_seconds=0.5)  # 40 words: 20 s
    reply, took = await stop_during_a_job(network, engine, words=40, grace=0.5)
    assert reply.status_code == 503, reply.text  # the only node left: no one to retry on
    assert 0.5 <= took < 4
    assert not engine.generating.is_set()  # its generation stopped too


async def test_stop_while_dialing_returns_at_once(tmp_path: Path) -> None:
    """A relay that accepts the connection and never answers: registration hangs."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.setblocking(False)
        settings = NodeSettings(
            relay=f"127.0.0.1:{silent.getsockname()[1]}", key_path=tmp_path / "node.pem"
        )
        agent = NodeAgent(settings, EchoEngine(), cached_key(settings.key_path, 0))
        running = asyncio.create_task(agent.run())
        async with asyncio.timeout(10):
            connection, _ = await asyncio.get_running_loop().sock_accept(silent)
        with connection:
            agent.stop()
            async with asyncio.timeout(2):
                await running
    assert not agent.registered.is_set()


async def test_an_http_node_answers_its_running_job_then_returns(network: LocalNetwork) -> None:
    gateway = await network.start_gateway()
    engine = WatchedEcho(token_delay_seconds=0.05)
    agent = PollingNodeAgent(
        gateway.base_url, engine, cached_key(network.tmp_path / "http.pem", 1), poll_wait_seconds=2
    )
    running = asyncio.create_task(agent.run())
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
        async with asyncio.timeout(10):
            await agent.registered.wait()
        asking = asyncio.create_task(http.post("/v1/chat/completions", json=chat(5)))
        async with asyncio.timeout(10):
            await engine.started.wait()
        agent.stop()
        async with asyncio.timeout(5):
            await running
            reply = await asking
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"].startswith("echo: w0")
