"""The transport floor under the echo path: bare gRPC and HTTP hops, no token.place code.

An echo request through the network crosses one HTTP round trip (client <-> gateway)
and two gRPC stream round trips (gateway <-> relay, relay <-> node), each between two
processes. This measures those hops alone, on the same machine and in the same run:

* gRPC: a ``grpc.aio`` bidirectional stream to a child process whose handler answers
  every message (raw bytes, sized like a DispatchRequest and its answer).
* HTTP: ``POST /v1/chat/completions`` to a child uvicorn + FastAPI app whose endpoint
  returns a fixed body the size of a chat.completion, from httpx and from http.client.

Each hop is timed one way, from CLOCK_MONOTONIC stamps taken on both sides (shared by
all processes on Linux): "up" is sender write -> receiver handler entry; "down" is
handler exit -> sender read done. Two spacings: back to back ("hot"), and with the
receiving side idle for ``IDLE_MS`` before each message while the sender stays on the
CPU ("idle"): in the echo path every process waits 0.5-4.5 ms for the other hops, and
on a virtual machine a process woken from idle pays several times the hot cost (the
longer the idle, the more). floor = HTTP round trip + 2 x gRPC round trip, idle, httpx.
Every process runs on the event loop the network's processes run on (cli/event_loop.py;
uvicorn picks the same one), so the floor moves with the network when the loop changes.

Run alone from the repo root: ``.venv/bin/python bench/transport_floor.py [--quick]``;
``bench/network_overhead.py`` runs it too and prints its table after its own.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response
from loopback import free_port
from report import format_table

from tokenplace.cli import event_loop

IDLE_MS = 2.0
STAMPS = struct.Struct("!qq")  # handler entry, handler exit (monotonic ns)
GRPC_METHOD = "/bench.TransportFloor/Hop"
REQUEST_BYTES = 900  # a DispatchStreamRequest for the echo chat, roughly
ANSWER_BYTES = 700  # its DispatchStreamResponse
HTTP_BODY = {"model": "echo", "messages": [{"role": "user", "content": "What is the capital?"}]}
HTTP_ANSWER = json.dumps({"id": "x" * 40, "object": "chat.completion", "pad": "p" * 240})
STARTUP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class FloorPlan:
    rounds: int
    messages: int
    warmup: int


FULL = FloorPlan(rounds=5, messages=200, warmup=50)
QUICK = FloorPlan(rounds=3, messages=50, warmup=20)


@dataclass
class OneWay:
    """Per-round medians (ms) of the up and down legs of one hop kind."""

    up: list[float] = field(default_factory=list)
    down: list[float] = field(default_factory=list)

    def add(self, ups: list[float], downs: list[float]) -> None:
        self.up.append(statistics.median(ups))
        self.down.append(statistics.median(downs))

    @property
    def up_ms(self) -> float:
        return statistics.median(self.up)

    @property
    def down_ms(self) -> float:
        return statistics.median(self.down)

    @property
    def round_trip(self) -> float:
        return self.up_ms + self.down_ms


@dataclass
class Floor:
    hops: dict[tuple[str, str], OneWay] = field(default_factory=dict)

    def hop(self, kind: str, spacing: str) -> OneWay:
        return self.hops.setdefault((kind, spacing), OneWay())

    @property
    def echo_path_ms(self) -> float:
        return self.hop("HTTP (httpx)", "idle").round_trip + 2 * self.hop("gRPC", "idle").round_trip


# --- the two servers (child processes) ------------------------------------------------


async def serve_grpc(port_file: Path) -> None:
    async def hop(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> None:
        async for request in requests:
            entered = time.monotonic_ns()
            idle_s = request[0] / 1000  # ms to wait before answering, while the client idles
            if idle_s:
                await asyncio.sleep(idle_s)
            answer = STAMPS.pack(entered, time.monotonic_ns()) + bytes(ANSWER_BYTES)
            await context.write(answer)

    handler = grpc.method_handlers_generic_handler(
        "bench.TransportFloor", {"Hop": grpc.stream_stream_rpc_method_handler(hop)}
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    announce(port_file, port)
    await server.wait_for_termination()


def announce(port_file: Path, port: int) -> None:
    port_file.write_text(str(port))


def serve_http(port: int) -> None:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        entered = time.monotonic_ns()
        await request.json()
        idle_s = int(request.headers.get("x-idle-ms", "0")) / 1000
        if idle_s:
            await asyncio.sleep(idle_s)
        stamps = f"{entered} {time.monotonic_ns()}"
        return Response(HTTP_ANSWER, media_type="application/json", headers={"x-stamps": stamps})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", http="httptools")


@contextmanager
def child(argv: list[str], ready: Path | None = None, port: int | None = None) -> Iterator[None]:
    """This script as a child process in server mode; waits until it listens."""
    process = subprocess.Popen([sys.executable, __file__, *argv], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _listening(ready, port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {argv[0]} server did not start")
            time.sleep(0.02)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _listening(ready: Path | None, port: int | None) -> bool:
    if ready is not None:
        return ready.exists() and ready.read_text() != ""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port or 0)) == 0


# --- the clients ------------------------------------------------------------------------


def busy_wait(milliseconds: float) -> None:
    """Stay on the CPU (the sender is hot) while the receiver idles."""
    until = time.monotonic_ns() + int(milliseconds * 1e6)
    while time.monotonic_ns() < until:
        pass


def ms(nanoseconds: int) -> float:
    return nanoseconds / 1e6


async def grpc_hops(port: int, count: int, idle_ms: float) -> tuple[list[float], list[float]]:
    ups, downs = [], []
    request = bytes([int(idle_ms)]) + bytes(REQUEST_BYTES - 1)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.stream_stream(GRPC_METHOD)()
        for _ in range(count):
            if idle_ms:
                busy_wait(idle_ms)
            sent = time.monotonic_ns()
            await call.write(request)
            answer = await call.read()
            done = time.monotonic_ns()
            entered, left = STAMPS.unpack_from(answer)
            ups.append(ms(entered - sent))
            downs.append(ms(done - left))
        call.cancel()
    return ups, downs


def http_hops(
    post: Callable[[dict[str, str]], str], count: int, idle_ms: float
) -> tuple[list[float], list[float]]:
    """`post` sends one request with these headers, reads the reply, returns its x-stamps."""
    ups, downs = [], []
    headers = {"x-idle-ms": str(int(idle_ms))}
    for _ in range(count):
        if idle_ms:
            busy_wait(idle_ms)
        sent = time.monotonic_ns()
        stamps = post(headers)
        done = time.monotonic_ns()
        entered, left = map(int, stamps.split())
        ups.append(ms(entered - sent))
        downs.append(ms(done - left))
    return ups, downs


def httpx_post(client: httpx.Client) -> Callable[[dict[str, str]], str]:
    def post(headers: dict[str, str]) -> str:
        reply = client.post("/v1/chat/completions", json=HTTP_BODY, headers=headers)
        reply.json()
        return reply.headers["x-stamps"]

    return post


def stdlib_post(connection: http.client.HTTPConnection) -> Callable[[dict[str, str]], str]:
    def post(headers: dict[str, str]) -> str:
        body = json.dumps(HTTP_BODY)
        connection.request(
            "POST", "/v1/chat/completions", body, {"Content-Type": "application/json", **headers}
        )
        reply = connection.getresponse()
        json.loads(reply.read())
        stamps = reply.getheader("x-stamps")
        if stamps is None:
            raise RuntimeError(f"the floor's HTTP server answered {reply.status} without stamps")
        return stamps

    return post


def measure(plan: FloorPlan) -> Floor:
    """Hot and idle hops of each kind, interleaved round by round."""
    floor = Floor()
    http_port = free_port()
    with tempfile.TemporaryDirectory(prefix="tokenplace-floor-") as workdir:
        ready = Path(workdir) / "grpc.port"
        with (
            child(["--serve-grpc", str(ready)], ready=ready),
            child(["--serve-http", str(http_port)], port=http_port),
        ):
            grpc_port = int(ready.read_text())
            base_url = f"http://127.0.0.1:{http_port}"
            connection = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
            with httpx.Client(base_url=base_url, timeout=30, trust_env=False) as client:
                posts = {
                    "HTTP (httpx)": httpx_post(client),
                    "HTTP (http.client)": stdlib_post(connection),
                }
                event_loop.run(grpc_hops(grpc_port, plan.warmup, 0))
                for post in posts.values():
                    http_hops(post, plan.warmup, 0)
                for _ in range(plan.rounds):
                    for spacing, idle_ms in (("hot", 0.0), ("idle", IDLE_MS)):
                        count = plan.messages if spacing == "hot" else plan.messages // 2
                        floor.hop("gRPC", spacing).add(
                            *event_loop.run(grpc_hops(grpc_port, count, idle_ms))
                        )
                        for kind, post in posts.items():
                            floor.hop(kind, spacing).add(*http_hops(post, count, idle_ms))
            connection.close()
    return floor


# --- report -----------------------------------------------------------------------------


def rows(floor: Floor) -> list[list[str]]:
    table = []
    for kind in ("gRPC", "HTTP (httpx)", "HTTP (http.client)"):
        for spacing in ("hot", "idle"):
            hop = floor.hop(kind, spacing)
            cells = (hop.up_ms, hop.down_ms, hop.round_trip)
            table.append([f"{kind}, {spacing}", *(f"{cell:.3f}" for cell in cells)])
    floor_row = ["echo path floor: HTTP (httpx) + 2 x gRPC, idle", "", ""]
    table.append([*floor_row, f"{floor.echo_path_ms:.3f}"])
    return table


def render(floor: Floor) -> str:
    headers = ["transport floor (ms, median of rounds)", "up", "down", "round trip"]
    note = f"idle: the receiver idles {IDLE_MS:.0f} ms before each message (the sender does not)"
    return format_table(headers, rows(floor)) + "\n" + note


def as_json(floor: Floor) -> dict[str, object]:
    hops = {
        f"{kind}, {spacing}": {"up_ms": hop.up, "down_ms": hop.down}
        for (kind, spacing), hop in floor.hops.items()
    }
    return {"idle_ms": IDLE_MS, "echo_path_ms": floor.echo_path_ms, "rounds": hops}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and messages")
    parser.add_argument("--serve-grpc", type=Path, metavar="PORT_FILE", help=argparse.SUPPRESS)
    parser.add_argument("--serve-http", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_grpc:
        event_loop.run(serve_grpc(args.serve_grpc))
        return 0
    if args.serve_http:
        serve_http(args.serve_http)
        return 0
    print(render(measure(QUICK if args.quick else FULL)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
