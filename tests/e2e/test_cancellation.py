"""A caller that goes away stops the work: HTTP disconnect -> gRPC cancel -> node stops."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support.network import LocalNetwork
from tokenplace.node.engines.echo import EchoEngine

LONG_PROMPT = " ".join(f"word{i}" for i in range(200))


async def test_client_disconnect_cancels_generation_on_the_node(network: LocalNetwork) -> None:
    engine = EchoEngine(slots=1, token_delay_seconds=0.05)  # 200 tokens: 10 s if not stopped
    node = await network.start_node(engine=engine)
    gateway = await network.start_gateway()
    relay = network.relay
    assert relay is not None
    async with httpx.AsyncClient(base_url=gateway.base_url) as http:
        request = asyncio.create_task(
            http.post(
                "/v1/chat/completions",
                json={"model": "echo", "messages": [{"role": "user", "content": LONG_PROMPT}]},
            )
        )
        await relay.dispatcher.changes.wait_until(lambda: bool(relay.dispatcher.jobs()))
        request.cancel()  # the client hangs up mid-generation
        with pytest.raises(asyncio.CancelledError):
            await request
    async with asyncio.timeout(3):  # far less than the 10 s the generation would take
        await relay.dispatcher.changes.wait_until(lambda: not relay.dispatcher.jobs())
    assert node.agent.active_jobs == 0
    # The slot is free again: a new request runs at once.
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        reply = await http.post(
            "/v1/chat/completions",
            json={"model": "echo", "messages": [{"role": "user", "content": "again"}]},
        )
    assert reply.json()["choices"][0]["message"]["content"] == "echo: again"
