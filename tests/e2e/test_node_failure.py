"""Killing nodes mid-request: retries, fast 503s, and nodes that come back by themselves."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest

from tests.support.network import LocalNetwork
from tests.support.processes import NodeProcess
from tokenplace.e2ee import load_or_create_private_key, public_key_b64
from tokenplace.relay.registry import Registry

PROMPT = "one two three four five six seven eight nine ten"


@pytest.fixture
async def processes() -> AsyncIterator[list[NodeProcess]]:
    started: list[NodeProcess] = []
    yield started
    for process in started:
        await process.stop()


async def start_node_process(
    net: LocalNetwork, processes: list[NodeProcess], tmp_path: Path, token_delay: float
) -> tuple[NodeProcess, str]:
    key_path = tmp_path / f"proc{len(processes)}.pem"
    node_id = Registry.node_id_for(public_key_b64(load_or_create_private_key(key_path)))
    process = NodeProcess(net.relay_address, key_path, token_delay, name=f"proc{len(processes)}")
    processes.append(process)
    await process.start()
    await wait_for_nodes(net, lambda ids: node_id in ids)
    return process, node_id


async def wait_for_nodes(net: LocalNetwork, predicate) -> None:
    assert net.relay is not None
    registry = net.relay.registry
    async with asyncio.timeout(15):
        await registry.wait_until(lambda: predicate({n.node_id for n in registry.all()}))


async def wait_for_job_on(net: LocalNetwork, node_id: str) -> None:
    """Until the relay has dispatched a job to `node_id`."""
    assert net.relay is not None
    dispatcher = net.relay.dispatcher
    async with asyncio.timeout(10):
        await dispatcher.changes.wait_until(
            lambda: any(j.node.node_id == node_id for j in dispatcher.jobs())
        )


def chat(net: LocalNetwork):
    client = openai.AsyncOpenAI(
        base_url=net.gateways[0].base_url + "/v1", api_key="unused", max_retries=0, timeout=30
    )
    return client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": PROMPT}]
    )


async def test_killed_node_request_succeeds_on_second_node(
    network: LocalNetwork, processes: list[NodeProcess], tmp_path: Path
) -> None:
    await network.start_gateway()
    slow, slow_id = await start_node_process(network, processes, tmp_path, token_delay=0.5)
    request = asyncio.create_task(chat(network))
    await wait_for_job_on(network, slow_id)
    _, fast_id = await start_node_process(network, processes, tmp_path, token_delay=0.0)
    await slow.kill()
    reply = await request
    assert reply.choices[0].message.content == "echo: " + PROMPT
    assert slow_id not in {n.node_id for n in network.relay.registry.all()}
    assert fast_id in {n.node_id for n in network.relay.registry.all()}


async def test_killed_only_node_fails_fast_with_503(
    network: LocalNetwork, processes: list[NodeProcess], tmp_path: Path
) -> None:
    await network.start_gateway()
    node, node_id = await start_node_process(network, processes, tmp_path, token_delay=1.0)
    request = asyncio.create_task(chat(network))
    await wait_for_job_on(network, node_id)
    killed_at = time.monotonic()
    await node.kill()
    with pytest.raises(openai.InternalServerError) as caught:
        await request
    elapsed = time.monotonic() - killed_at
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == "no_compute_node_available"
    assert elapsed < 1.0, f"503 took {elapsed:.2f} s after the node died"


async def test_restarted_node_registers_again(
    network: LocalNetwork, processes: list[NodeProcess], tmp_path: Path
) -> None:
    await network.start_gateway()
    node, node_id = await start_node_process(network, processes, tmp_path, token_delay=0.0)
    await node.kill()
    await wait_for_nodes(network, lambda ids: node_id not in ids)
    again = NodeProcess(network.relay_address, node.key_path, name="proc-again")
    processes.append(again)
    await again.start()
    await wait_for_nodes(network, lambda ids: node_id in ids)
    reply = await chat(network)
    assert reply.choices[0].message.content == "echo: " + PROMPT


async def test_node_redials_a_restarted_relay(tmp_path: Path) -> None:
    net = LocalNetwork(tmp_path)
    relay = await net.start_relay()
    port = relay.port
    node = await net.start_node()
    try:
        await relay.stop(grace=0)
        node.agent.registered.clear()
        await net.start_relay(port=port)
        async with asyncio.timeout(10):
            await node.agent.registered.wait()
        assert net.relay is not None
        assert [n.node_id for n in net.relay.registry.all()] == [node.agent.node_id]
    finally:
        await net.stop()
