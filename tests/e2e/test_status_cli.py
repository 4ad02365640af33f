"""`tokenplace status`: the --json snapshot as a real subprocess against a live network,
the unreachable-relay error, and the live view rendered from a fake state."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console

from tests.support.network import LocalNetwork
from tests.support.processes import ROOT
from tokenplace.cli.status_view import StatusState, render
from tokenplace.client.types import ClusterStats, MonitoringEvent, NodeStatus
from tokenplace.node.engines.echo import EchoEngine

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC).timestamp()


async def run_status(*args: str) -> tuple[int, str, str]:
    """`python -m cli.main status …` in a child process; the test loop keeps serving."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tokenplace.cli.main",
        "status",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_json_snapshot_reports_the_network_the_test_set_up(network: LocalNetwork) -> None:
    await network.start_node(EchoEngine(slots=3, model_id="alpha"))
    await network.start_node(EchoEngine(slots=1, model_id="beta"))
    gateway = await network.start_gateway()
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        chat = {"model": "alpha", "messages": [{"role": "user", "content": "one two three"}]}
        (await http.post("/v1/chat/completions", json=chat)).raise_for_status()

    code, stdout, stderr = await run_status("--relay", network.relay_address, "--json")

    assert code == 0, stderr
    snapshot = json.loads(stdout)
    assert set(snapshot) == {"relay", "nodes", "relays", "stats"}
    nodes = {node["display_name"]: node for node in snapshot["nodes"]}
    assert set(nodes) == {"test-node-0", "test-node-1"}
    assert (nodes["test-node-0"]["models"], nodes["test-node-0"]["slots"]) == (["alpha"], 3)
    assert (nodes["test-node-1"]["models"], nodes["test-node-1"]["slots"]) == (["beta"], 1)
    assert nodes["test-node-0"]["node_id"] == network.nodes[0].agent.node_id
    assert nodes["test-node-0"]["jobs_completed"] == 1
    assert nodes["test-node-0"]["tokens_generated"] > 0
    for node in nodes.values():
        assert node["online"] and node["connected"] and node["slots_in_use"] == 0
        assert datetime.fromisoformat(node["last_seen"]).tzinfo is not None
    stats = snapshot["stats"]
    assert (stats["workers_online"], stats["workers_total"]) == (2, 2)
    assert (stats["slots_total"], stats["slots_busy"], stats["models_served"]) == (4, 0, 2)
    assert stats["jobs_completed"] == 1
    assert len(snapshot["relays"]) == 1 and snapshot["relays"][0]["online"] is True


async def test_json_snapshot_fails_clearly_when_the_relay_is_down() -> None:
    code, stdout, stderr = await run_status("--relay", "127.0.0.1:9", "--json")
    assert code != 0
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("tokenplace status: cannot reach the relay at 127.0.0.1:9")


def node(node_id: str, **fields: Any) -> NodeStatus:
    defaults: dict[str, Any] = {
        "node_id": node_id,
        "display_name": f"name-{node_id}",
        "transport": "stream",
        "peer": "ipv4:127.0.0.1:1234",
        "models": ["alpha"],
        "slots": 2,
        "slots_in_use": 0,
        "queued_jobs": 0,
        "connected_at": datetime.fromtimestamp(NOW - 100, UTC),
        "last_seen": datetime.fromtimestamp(NOW - 5, UTC),
        "online": True,
        "connected": True,
        "draining": False,
        "jobs_completed": 0,
        "jobs_failed": 0,
        "tokens_generated": 0,
    }
    return NodeStatus(**{**defaults, **fields})


def fake_state() -> StatusState:
    state = StatusState(relay="relay.example:50051", started=NOW - 60, window_seconds=10)
    state.nodes = [
        node("n1", models=["alpha", "beta"], jobs_completed=7, tokens_generated=140),
        node("n2", online=False, connected=False, last_seen=datetime.fromtimestamp(NOW - 300, UTC)),
    ]
    state.stats = ClusterStats(
        workers_online=1,
        workers_total=2,
        federated_online=1,
        federated_total=1,
        slots_total=2,
        models_served=2,
        jobs_completed=7,
        tokens_generated=140,
    )
    return state


def text_of(state: StatusState, now: float = NOW) -> str:
    console = Console(record=True, width=160, color_system=None)
    console.print(render(state, now))
    return console.export_text()


def test_live_view_shows_nodes_totals_and_throughput() -> None:
    state = fake_state()
    for when, tokens in ((NOW - 4, 10), (NOW - 2, 30)):
        state.apply(MonitoringEvent("job_dispatched", None, node_id="n1", job_id="j"), when)
        finished = MonitoringEvent(
            "job_finished", None, node_id="n1", outcome="completed", completion_tokens=tokens
        )
        assert state.apply(finished, when) is False

    text = text_of(state)

    assert "relay.example:50051" in text
    row = next(line for line in text.splitlines() if "name-n1" in line)
    for cell in ("n1", "online", "alpha, beta", "0/2", "5s ago", "9", "180"):
        assert cell in row
    left = next(line for line in text.splitlines() if "name-n2" in line)
    assert "left" in left and "5m ago" in left
    assert "1/2 online" in text  # workers
    assert "9 done, 0 failed" in text
    assert "0.20 jobs/s, 4.0 tokens/s" in text  # 2 jobs, 40 tokens over the 10 s window


def test_throughput_window_slides_and_node_events_ask_for_a_refresh() -> None:
    state = fake_state()
    done = MonitoringEvent("job_finished", None, node_id="n1", outcome="completed")
    state.apply(MonitoringEvent("job_dispatched", None, node_id="n1"), NOW - 30)
    state.apply(done, NOW - 30)
    assert state.rates(NOW) == (0.0, 0.0)  # outside the 10 s window
    assert state.apply(MonitoringEvent("node_left", None, node_id="n1"), NOW) is True
    failed = MonitoringEvent("job_finished", None, node_id="n1", outcome="node_lost")
    state.apply(failed, NOW)
    assert state.nodes[0].jobs_failed == 1 and state.stats.jobs_failed == 1


def test_live_view_shows_an_unreachable_relay() -> None:
    state = fake_state()
    state.nodes = []
    state.error = "P2P subsystem not available: cannot reach the relay at relay.example:50051"
    text = text_of(state)
    assert "(no nodes)" in text
    assert "cannot reach the relay" in text
