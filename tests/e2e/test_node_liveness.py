"""Liveness with real node processes: killed nodes leave at once, frozen ones go offline
when the online window lapses and come back when resumed (LocalAI's isOnline semantics).

Every wait is on the relay's MonitoringService event stream, never a sleep.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest

from tests.support.monitoring_watch import EventWatch, monitoring_stub
from tests.support.network import LocalNetwork
from tests.support.processes import NodeProcess
from tokenplace.e2ee import load_or_create_private_key, public_key_b64
from tokenplace.relay.registry import Registry
from tokenplace.v1 import monitoring_pb2

WINDOW_SECONDS = 2.0


@pytest.fixture
async def processes() -> AsyncIterator[list[NodeProcess]]:
    started: list[NodeProcess] = []
    yield started
    for process in started:  # stop() sends SIGCONT first: no frozen process outlives a test
        await process.stop()


async def start_node(
    net: LocalNetwork, watch: EventWatch, processes: list[NodeProcess], tmp_path: Path
) -> tuple[NodeProcess, str]:
    key_path = tmp_path / f"proc{len(processes)}.pem"
    node_id = Registry.node_id_for(public_key_b64(load_or_create_private_key(key_path)))
    process = NodeProcess(net.relay_address, key_path, name=f"proc{len(processes)}")
    processes.append(process)
    await process.start()
    await watch.next("node_joined", lambda e: e.node_id == node_id, within=15)
    return process, node_id


async def chat(net: LocalNetwork) -> httpx.Response:
    async with httpx.AsyncClient(base_url=net.gateways[0].base_url, timeout=10) as http:
        return await http.post(
            "/v1/chat/completions",
            json={"model": "echo", "messages": [{"role": "user", "content": "are you there"}]},
        )


async def node_status(net: LocalNetwork, node_id: str) -> monitoring_pb2.NodeStatus:
    async with grpc.aio.insecure_channel(net.relay_address) as channel:
        listed = await monitoring_stub(channel).ListNodes(
            monitoring_pb2.ListNodesRequest(), timeout=5
        )
    return next(node for node in listed.nodes if node.node_id == node_id)


async def test_killed_node_is_out_of_dispatch_at_once_and_listed_offline(
    network: LocalNetwork, processes: list[NodeProcess], tmp_path: Path
) -> None:
    await network.start_gateway()
    async with EventWatch(network.relay_address) as watch:
        doomed, doomed_id = await start_node(network, watch, processes, tmp_path)
        _, survivor_id = await start_node(network, watch, processes, tmp_path)
        await doomed.kill()
        left = await watch.next("node_left", lambda e: e.node_id == doomed_id)
        assert left.reason == "disconnected"
        for _ in range(3):  # every request now goes to the survivor
            assert (await chat(network)).status_code == 200
            dispatched = await watch.next("job_dispatched")
            assert dispatched.node_id == survivor_id
    gone = await node_status(network, doomed_id)
    assert (gone.online, gone.connected) == (False, False)


async def test_killed_only_node_leaves_requests_a_503(
    network: LocalNetwork, processes: list[NodeProcess], tmp_path: Path
) -> None:
    await network.start_gateway()
    async with EventWatch(network.relay_address) as watch:
        node, node_id = await start_node(network, watch, processes, tmp_path)
        await node.kill()
        await watch.next("node_left", lambda e: e.node_id == node_id)
    reply = await chat(network)
    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "no_compute_node_available"
    assert not (await node_status(network, node_id)).online


async def test_frozen_node_goes_offline_and_comes_back(
    tmp_path: Path, processes: list[NodeProcess]
) -> None:
    net = LocalNetwork(tmp_path)
    await net.start_relay(node_timeout_seconds=WINDOW_SECONDS, heartbeat_interval_seconds=1)
    try:
        await net.start_gateway()
        async with EventWatch(net.relay_address) as watch:
            node, node_id = await start_node(net, watch, processes, tmp_path)
            node.signal(signal.SIGSTOP)
            try:
                offline = await watch.next("node_offline", lambda e: e.node_id == node_id)
                assert offline.silent_for.ToNanoseconds() / 1e9 > WINDOW_SECONDS
                status = await node_status(net, node_id)
                assert (status.online, status.connected) == (False, True)
                refused = await chat(net)
                assert refused.status_code == 503, refused.text
            finally:
                node.signal(signal.SIGCONT)
            await watch.next("node_online", lambda e: e.node_id == node_id)
        assert (await node_status(net, node_id)).online
        assert (await chat(net)).status_code == 200
    finally:
        await net.stop()
