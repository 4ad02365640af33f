"""Compute nodes that speak only HTTP serve the same clients as gRPC nodes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import openai

from tests.support.network import LocalNetwork
from tokenplace.e2ee import generate_private_key
from tokenplace.node.engines.echo import EchoEngine
from tokenplace.node.polling_agent import PollingNodeAgent


@contextlib.asynccontextmanager
async def http_node(base_url: str, engine: EchoEngine) -> AsyncIterator[PollingNodeAgent]:
    agent = PollingNodeAgent(base_url, engine, generate_private_key(), poll_wait_seconds=2)
    task = asyncio.create_task(agent.run())
    try:
        async with asyncio.timeout(10):
            await agent.registered.wait()
        yield agent
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_http_node_and_grpc_node_serve_side_by_side(network: LocalNetwork) -> None:
    grpc_engine, http_engine = CountingEcho(), CountingEcho()
    grpc_node = await network.start_node(engine=grpc_engine)
    gateway = await network.start_gateway()
    relay = network.relay
    assert relay is not None
    async with http_node(gateway.base_url, http_engine) as polled:
        transports = {n.node_id: n.transport for n in relay.registry.all()}
        assert transports == {grpc_node.agent.node_id: "stream", polled.node_id: "polling"}
        client = openai.AsyncOpenAI(base_url=gateway.base_url + "/v1", api_key="unused")
        for i in range(6):
            reply = await client.chat.completions.create(
                model="echo", messages=[{"role": "user", "content": f"question {i}"}]
            )
            assert reply.choices[0].message.content == f"echo: question {i}"
    assert grpc_engine.calls >= 2 and http_engine.calls >= 2  # equal load: they take turns


class CountingEcho(EchoEngine):
    """The echo fake, counting the generations it ran."""

    def __init__(self) -> None:
        super().__init__(slots=1)
        self.calls = 0

    def generate(self, request, cancelled):  # type: ignore[no-untyped-def]
        self.calls += 1
        return super().generate(request, cancelled)
