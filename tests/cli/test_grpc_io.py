"""tokenplace processes run gRPC on the epoll poller, so a gRPC event wakes no
EventEngine worker thread on its way to the event loop (cli/grpc_io.py), unless the
operator chose otherwise; and the pinned grpcio knows the experiments we turn off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tokenplace.cli import grpc_io

ROOT = Path(__file__).resolve().parents[2]

# Imports `cli` first, as `tokenplace` and `python -m cli.main` do, then makes gRPC round
# trips on one grpc.aio server and channel and counts the EventEngine threads' wake-ups.
PROBE = """
import asyncio, json, os
import tokenplace.cli
import grpc

CALLS = 200

def event_engine_wakeups():
    total = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            if open(f"/proc/self/task/{tid}/comm").read().strip() != "event_engine":
                continue
            for line in open(f"/proc/self/task/{tid}/status"):
                if line.startswith("voluntary_ctxt_switches"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total

async def main():
    server = grpc.aio.server()
    echo = grpc.unary_unary_rpc_method_handler(lambda request, context: request)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("t.T", {"U": echo}),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary("/t.T/U")
        for _ in range(20):
            await call(b"warm-up")
        before = event_engine_wakeups()
        for _ in range(CALLS):
            assert await call(b"ping") == b"ping"
        after = event_engine_wakeups()
    await server.stop(None)
    print(json.dumps({"experiments": os.environ.get("GRPC_EXPERIMENTS"),
                      "wakeups_per_call": (after - before) / CALLS}))

asyncio.run(main())
"""

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads thread wake-ups from /proc"
)


def _probe(env: dict[str, str]) -> tuple[dict[str, object], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def _env_without_experiments() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "GRPC_EXPERIMENTS"}


def test_grpc_events_reach_the_loop_without_event_engine_threads() -> None:
    result, stderr = _probe(_env_without_experiments())
    assert result["experiments"] == "-event_engine_client,-event_engine_listener"
    assert result["wakeups_per_call"] < 1
    # A grpcio that no longer knows an experiment says so here: revisit cli/grpc_io.py.
    assert "Unknown experiment" not in stderr


def test_an_operators_grpc_experiments_are_left_alone() -> None:
    result, _ = _probe({**_env_without_experiments(), "GRPC_EXPERIMENTS": ""})
    assert result["experiments"] == ""
    # EventEngine as grpcio ships it: its threads wake for every call.
    assert result["wakeups_per_call"] > 2


def test_a_child_of_another_checkout_gets_the_operators_environment_only() -> None:
    added: dict[str, str] = {"PATH": "/bin"}
    grpc_io.prefer_epoll_poller(added)
    assert added["GRPC_EXPERIMENTS"] == grpc_io.EPOLL_POLLER
    assert grpc_io.operator_environment(added) == {"PATH": "/bin"}

    operators = {"PATH": "/bin", "GRPC_EXPERIMENTS": "-event_engine_dns"}
    grpc_io.prefer_epoll_poller(operators)
    assert grpc_io.operator_environment(operators) == operators
