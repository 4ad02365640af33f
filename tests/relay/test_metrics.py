"""The relay's Prometheus endpoint, scraped after real traffic through a gateway."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.network import LocalNetwork
from tests.support.prometheus import eventually, scrape
from tokenplace.node.engines.echo import EchoEngine
from tokenplace.relay.config import RelaySettings
from tokenplace.relay.server import RelayServer

INFERENCE = "tokenplace.v1.InferenceService"
NODES = "tokenplace.v1.NodeService"


def metrics_url(relay: RelayServer) -> str:
    assert relay.metrics_port, "the relay serves metrics"
    return f"http://127.0.0.1:{relay.metrics_port}/metrics"


def chat(content: str, model: str = "echo") -> dict:
    return {"model": model, "messages": [{"role": "user", "content": content}]}


@pytest.fixture
async def net(tmp_path: Path) -> AsyncIterator[LocalNetwork]:
    network = LocalNetwork(tmp_path)
    await network.start_relay(metrics_port=0)
    try:
        yield network
    finally:
        await network.stop()


async def test_traffic_tokens_and_node_loss_move_the_counters(net: LocalNetwork) -> None:
    relay = net.relay
    assert relay is not None
    node = await net.start_node(engine=EchoEngine(slots=3))
    gateway = await net.start_gateway()
    before = await scrape(metrics_url(relay))
    assert before.value("tokenplace_relay_nodes_online") == 1
    assert before.value("tokenplace_relay_nodes_connected") == 1
    assert before.value("tokenplace_relay_slots_total") == 3
    assert before.value("tokenplace_relay_node_joins_total", transport="stream") == 1
    assert before.value("tokenplace_relay_grpc_started_total", grpc_method="Connect") == 1

    prompt_tokens = completion_tokens = 0
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
        for text in ("one", "two words", "three small words"):
            reply = await http.post("/v1/chat/completions", json=chat(text))
            assert reply.status_code == 200
            prompt_tokens += reply.json()["usage"]["prompt_tokens"]
            completion_tokens += reply.json()["usage"]["completion_tokens"]
        missing = await http.post("/v1/chat/completions", json=chat("hi", model="no-such-model"))
        assert missing.status_code == 404

    after = await scrape(metrics_url(relay))
    assert after.value("tokenplace_relay_tokens_total", model="echo", kind="prompt") == (
        prompt_tokens
    )
    assert after.value("tokenplace_relay_tokens_total", model="echo", kind="completion") == (
        completion_tokens
    )
    assert after.value("tokenplace_relay_jobs_finished_total", outcome="completed") == 3
    assert after.value("tokenplace_relay_dispatch_latency_seconds_count") == 3
    assert after.value("tokenplace_relay_job_duration_seconds_count", outcome="completed") == 3
    assert after.value("tokenplace_relay_slots_busy") == 0
    assert after.value("tokenplace_relay_grpc_started_total", grpc_service=INFERENCE) >= 1
    # A stream is counted when it ends, and never in the unary latency histogram.
    assert after.value("tokenplace_relay_grpc_handled_total", grpc_service=NODES) == 0
    assert after.value("tokenplace_relay_grpc_handling_seconds_count", grpc_service=NODES) == 0

    await node.stop()
    await relay.registry.wait_until(lambda: not relay.registry.all())

    async def stream_counted() -> bool:
        lost = await scrape(metrics_url(relay))
        return lost.value("tokenplace_relay_grpc_stream_seconds_count", grpc_method="Connect") == 1

    await eventually(stream_counted)
    lost = await scrape(metrics_url(relay))
    assert lost.value("tokenplace_relay_node_losses_total") == 1
    assert lost.label_values("tokenplace_relay_node_losses_total", "reason") <= {
        "disconnected",
        "drained",
    }
    assert lost.value("tokenplace_relay_nodes_online") == 0
    assert lost.value("tokenplace_relay_nodes_connected") == 0
    assert lost.value("tokenplace_relay_slots_total") == 0
    assert lost.value("tokenplace_relay_grpc_handled_total", grpc_method="Connect") == 1
    assert lost.value("tokenplace_relay_grpc_handling_seconds_count", grpc_service=NODES) == 0


async def test_rpcs_are_counted_by_method_and_status_code(net: LocalNetwork) -> None:
    relay = net.relay
    assert relay is not None
    async with grpc.aio.insecure_channel(net.relay_address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(2):
            await health.Check(health_pb2.HealthCheckRequest(service=""))
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    metrics = await scrape(metrics_url(relay))
    check = {"grpc_service": "grpc.health.v1.Health", "grpc_method": "Check"}
    assert metrics.value("tokenplace_relay_grpc_handled_total", grpc_code="OK", **check) == 2
    assert metrics.value("tokenplace_relay_grpc_handled_total", grpc_code="NOT_FOUND", **check) == 1
    assert metrics.value("tokenplace_relay_grpc_handling_seconds_count", **check) == 3
    assert metrics.value("tokenplace_relay_grpc_started_total", grpc_type="unary", **check) == 3


async def test_busy_slots_and_queue_depth_while_slow_jobs_run(net: LocalNetwork) -> None:
    relay = net.relay
    assert relay is not None
    await net.start_node(engine=EchoEngine(slots=1, token_delay_seconds=0.1))
    gateway = await net.start_gateway()
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
        replies = [
            asyncio.create_task(http.post("/v1/chat/completions", json=chat(f"slow {i} a b c")))
            for i in range(2)
        ]
        await relay.dispatcher.changes.wait_until(lambda: bool(relay.dispatcher.jobs()))

        async def one_queued() -> bool:
            return (await scrape(metrics_url(relay))).value("tokenplace_relay_queue_depth") == 1

        await eventually(one_queued)
        busy = await scrape(metrics_url(relay))
        assert busy.value("tokenplace_relay_slots_busy") == 1
        assert busy.value("tokenplace_relay_jobs_in_flight") == 1
        assert [r.status_code for r in await asyncio.gather(*replies)] == [200, 200]
    idle = await scrape(metrics_url(relay))
    assert idle.value("tokenplace_relay_slots_busy") == 0
    assert idle.value("tokenplace_relay_queue_depth") == 0
    assert idle.value("tokenplace_relay_jobs_finished_total", outcome="completed") == 2


async def test_finished_jobs_are_logged_at_debug_without_content(
    net: LocalNetwork, caplog: pytest.LogCaptureFixture
) -> None:
    await net.start_node()
    gateway = await net.start_gateway()
    with caplog.at_level(logging.DEBUG, logger="tokenplace.relay.jobs"):
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
            reply = await http.post("/v1/chat/completions", json=chat("secret words"))
    usage = reply.json()["usage"]
    [record] = [r for r in caplog.records if r.name == "tokenplace.relay.jobs"]
    assert record.levelno == logging.DEBUG
    assert record.outcome == "completed" and record.model == "echo"
    assert record.request_id and record.job_id and record.node_id.startswith("node-")
    assert record.duration_ms >= 0
    assert record.prompt_tokens == usage["prompt_tokens"]
    assert record.completion_tokens == usage["completion_tokens"]
    assert "secret" not in str(record.__dict__)


async def test_metrics_endpoint_answers_only_metrics_and_closes_on_stop(tmp_path: Path) -> None:
    net = LocalNetwork(tmp_path)
    relay = await net.start_relay(metrics_port=0)
    base = f"http://127.0.0.1:{relay.metrics_port}"
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        assert (await http.get("/metrics")).status_code == 200
        assert (await http.get("/other")).status_code == 404
        assert (await http.post("/metrics")).status_code == 405
        head = await http.head("/metrics")
        assert head.status_code == 200 and head.content == b""
    await net.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(timeout=5) as http:
            await http.get(f"{base}/metrics")


async def test_metrics_are_off_by_default(network: LocalNetwork) -> None:
    assert network.relay is not None
    assert network.relay.metrics_port is None
    assert RelaySettings(metrics_port="off").metrics_port is None
    assert RelaySettings(metrics_port="9464").metrics_port == 9464


async def test_two_relays_in_one_process_keep_separate_counts(tmp_path: Path) -> None:
    first, second = LocalNetwork(tmp_path / "a"), LocalNetwork(tmp_path / "b")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    relays = [await first.start_relay(metrics_port=0), await second.start_relay(metrics_port=0)]
    try:
        await first.start_node()
        counts = [
            (await scrape(metrics_url(r))).value("tokenplace_relay_nodes_online") for r in relays
        ]
        assert counts == [1, 0]
    finally:
        await first.stop()
        await second.stop()
