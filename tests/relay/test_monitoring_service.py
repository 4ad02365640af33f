"""MonitoringService: what it reports about the nodes, the relay and the cluster."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from google.protobuf import json_format

from tests.support.monitoring_watch import EventWatch, monitoring_stub
from tests.support.network import LocalNetwork
from tokenplace.node.engines.echo import EchoEngine
from tokenplace.v1 import monitoring_pb2

STEP = 5.0


@pytest.fixture
async def monitoring(network: LocalNetwork) -> AsyncIterator:
    async with grpc.aio.insecure_channel(network.relay_address) as channel:
        yield monitoring_stub(channel)


async def chat(network: LocalNetwork, model: str, content: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=network.gateways[0].base_url, timeout=10) as http:
        return await http.post(
            "/v1/chat/completions",
            json={"model": model, "messages": [{"role": "user", "content": content}]},
        )


async def wait_for_dispatched_job(network: LocalNetwork) -> None:
    dispatcher = network.relay.dispatcher
    async with asyncio.timeout(STEP):
        await dispatcher.changes.wait_until(lambda: bool(dispatcher.jobs()))


async def test_list_nodes_and_stats_report_what_the_network_runs(
    network: LocalNetwork, monitoring
) -> None:
    slow = await network.start_node(EchoEngine(slots=2, model_id="echo-a", token_delay_seconds=0.2))
    fast = await network.start_node(EchoEngine(slots=3, model_id="echo-b"))
    await network.start_gateway()
    request = asyncio.create_task(chat(network, "echo-a", "one two three"))
    await wait_for_dispatched_job(network)

    listed = await monitoring.ListNodes(monitoring_pb2.ListNodesRequest(), timeout=STEP)
    nodes = {node.node_id: node for node in listed.nodes}
    assert set(nodes) == {slow.agent.node_id, fast.agent.node_id}
    a, b = nodes[slow.agent.node_id], nodes[fast.agent.node_id]
    assert (list(a.models), a.slots, a.slots_in_use) == (["echo-a"], 2, 1)
    assert (list(b.models), b.slots, b.slots_in_use) == (["echo-b"], 3, 0)
    for node in (a, b):
        assert node.online and node.connected and not node.draining
        assert node.transport == "stream" and node.display_name.startswith("test-node-")
        assert node.inventory.engine == "echo" and node.inventory.cpu_count >= 1
        assert node.last_seen.seconds > 0 and node.connected_at.seconds > 0
    assert listed.online_window.seconds == 40

    busy = (await monitoring.GetClusterStats(monitoring_pb2.GetClusterStatsRequest())).stats
    assert (busy.workers_online, busy.workers_total, busy.slots_total, busy.slots_busy) == (
        2,
        2,
        5,
        1,
    )
    assert (busy.federated_online, busy.federated_total, busy.models_served) == (1, 1, 2)
    assert busy.jobs_dispatched == 1 and busy.jobs_completed == 0

    assert (await request).status_code == 200
    after = await monitoring.ListNodes(monitoring_pb2.ListNodesRequest(), timeout=STEP)
    a = next(n for n in after.nodes if n.node_id == slow.agent.node_id)
    assert (a.slots_in_use, a.jobs_completed, a.jobs_failed) == (0, 1, 0)
    assert a.tokens_generated == 4  # "echo: one two three"
    stats = (await monitoring.GetClusterStats(monitoring_pb2.GetClusterStatsRequest())).stats
    assert (stats.slots_busy, stats.jobs_completed, stats.tokens_generated) == (0, 1, 4)


async def test_a_node_that_left_is_listed_offline(network: LocalNetwork, monitoring) -> None:
    staying = await network.start_node()
    leaving = await network.start_node(EchoEngine(model_id="echo-gone"))
    async with EventWatch(network.relay_address) as watch:
        await leaving.stop()
        left = await watch.next("node_left", lambda e: e.node_id == leaving.agent.node_id)
    assert left.reason == "disconnected"
    listed = await monitoring.ListNodes(monitoring_pb2.ListNodesRequest(), timeout=STEP)
    state = {n.node_id: (n.online, n.connected) for n in listed.nodes}
    assert state == {staying.agent.node_id: (True, True), leaving.agent.node_id: (False, False)}
    gone = next(n for n in listed.nodes if n.node_id == leaving.agent.node_id)
    assert list(gone.models) == ["echo-gone"]
    stats = (await monitoring.GetClusterStats(monitoring_pb2.GetClusterStatsRequest())).stats
    assert (stats.workers_online, stats.workers_total, stats.models_served) == (1, 2, 1)


async def test_departed_nodes_are_bounded(tmp_path) -> None:
    net = LocalNetwork(tmp_path)
    relay = await net.start_relay(max_departed_nodes=1)
    try:
        first, second = await net.start_node(), await net.start_node()
        for node in (first, second):
            await node.stop()
        async with asyncio.timeout(STEP):
            await relay.registry.wait_until(lambda: not relay.registry.all())
        assert [n.node_id for n in relay.directory.nodes()] == [second.agent.node_id]
    finally:
        await net.stop()


async def test_list_relays_reports_this_relay(network: LocalNetwork, monitoring) -> None:
    relays = (await monitoring.ListRelays(monitoring_pb2.ListRelaysRequest())).relays
    assert len(relays) == 1
    relay = relays[0]
    assert relay.relay_id.startswith("relay-") and relay.online
    assert relay.address == network.relay.address and relay.version
    assert 0 < relay.started_at.seconds <= relay.last_seen.seconds


async def test_watch_events_tells_the_story_without_content(
    network: LocalNetwork,
) -> None:
    sentinel = f"SENTINEL-{uuid.uuid4().hex}"
    await network.start_gateway()
    async with EventWatch(network.relay_address) as watch:
        node = await network.start_node()
        joined = await watch.next("node_joined")
        assert (joined.node_id, list(joined.models), joined.slots) == (
            node.agent.node_id,
            ["echo"],
            4,
        )
        assert joined.transport == "stream"
        reply = await chat(network, "echo", f"{sentinel} says hi")
        assert reply.status_code == 200
        dispatched = await watch.next("job_dispatched")
        finished = await watch.next("job_finished", lambda e: e.job_id == dispatched.job_id)
        assert dispatched.node_id == node.agent.node_id and dispatched.model == "echo"
        assert finished.outcome == monitoring_pb2.JOB_OUTCOME_KIND_COMPLETED
        assert finished.prompt_tokens > 0 and finished.completion_tokens == 4
        assert finished.duration.ToNanoseconds() > 0
        await node.stop()
        left = await watch.next("node_left")
        assert (left.node_id, left.reason) == (node.agent.node_id, "disconnected")
    for event in watch.received:
        assert event.time.seconds > 0
        assert sentinel.encode() not in event.SerializeToString()
        assert sentinel not in json_format.MessageToJson(event)


async def test_watch_events_ends_cleanly_when_the_relay_stops(network: LocalNetwork) -> None:
    async with EventWatch(network.relay_address) as watch:
        await network.relay.stop(grace=0)
        async with asyncio.timeout(STEP):
            assert await watch.call.read() is grpc.aio.EOF
        assert await watch.call.code() == grpc.StatusCode.OK


async def test_watch_events_unsubscribes_when_the_client_cancels(network: LocalNetwork) -> None:
    events = network.relay.events
    async with EventWatch(network.relay_address):
        assert events.subscribers == 1
    async with asyncio.timeout(STEP):  # no signal for a server-side cancel: poll, bounded
        while events.subscribers:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
