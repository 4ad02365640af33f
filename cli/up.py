"""`tokenplace up`: relay, gateway and one node as child processes on localhost."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass, field

from tokenplace.cli.metrics_flag import relay_metrics_port
from tokenplace.node.engines.bundled import SMOLLM2

READY_MARKERS = {
    "relay": "relay: listening on",
    "gateway": "Application startup complete",
    "node": "registered with relay",
}


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    forwarder: asyncio.Task[None] | None = None


async def run_up(args: argparse.Namespace) -> int:
    relay_port = args.relay_port or int(os.environ.get("TOKENPLACE_RELAY_PORT", 50051))
    gateway_port = args.port or int(os.environ.get("TOKENPLACE_GATEWAY_PORT", 8000))
    engine = args.engine or os.environ.get("TOKENPLACE_NODE_ENGINE", "llama_cpp")
    relay_address = f"127.0.0.1:{relay_port}"
    metrics_port = relay_metrics_port(args.metrics_port)
    relay_argv = ["relay", "--port", str(relay_port), "--metrics-port", _flag(metrics_port)]
    children: list[Child] = []
    try:
        relay = await _spawn("relay", relay_argv, args)
        children.append(relay)
        await _ready_or_exit(relay)
        gateway = await _spawn(
            "gateway",
            ["gateway", "--relay", relay_address, "--port", str(gateway_port)],
            args,
        )
        node = await _spawn("node", ["node", "--relay", relay_address, "--engine", engine], args)
        children += [gateway, node]
        for child in (gateway, node):
            await _ready_or_exit(child)
        _print_banner(gateway_port, "echo" if engine == "echo" else SMOLLM2.id, metrics_port)
        return await _supervise(children)
    except ChildFailed as failed:
        print(f"tokenplace up: {failed}", file=sys.stderr)
        return 1
    finally:
        await _stop_all(children)


def _flag(port: int | None) -> str:
    return "off" if port is None else str(port)


class ChildFailed(Exception):
    pass


async def _spawn(name: str, argv: list[str], args: argparse.Namespace) -> Child:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tokenplace.cli.main",
        "--log-level",
        args.log_level,
        "--log-format",
        args.log_format,
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=_child_env(),
    )
    child = Child(name, process)
    child.forwarder = asyncio.create_task(_forward(child))
    return child


def _child_env() -> dict[str, str]:
    """Our environment; a join token set for the relay is handed to the local node too."""
    env = dict(os.environ)
    relay_token = env.get("TOKENPLACE_RELAY_JOIN_TOKEN")
    if relay_token:
        env.setdefault("TOKENPLACE_NODE_JOIN_TOKEN", relay_token)
    return env


async def _forward(child: Child) -> None:
    assert child.process.stdout is not None
    async for raw in child.process.stdout:
        line = raw.decode(errors="replace").rstrip()
        print(f"[{child.name}] {line}", flush=True)
        if READY_MARKERS[child.name] in line:
            child.ready.set()


async def _ready_or_exit(child: Child) -> None:
    ready = asyncio.create_task(child.ready.wait())
    exited = asyncio.create_task(child.process.wait())
    await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
    ready.cancel()
    exited.cancel()
    if not child.ready.is_set():
        raise ChildFailed(f"the {child.name} exited before it was ready (see its output above)")


def _print_banner(port: int, model: str, metrics_port: int | None) -> None:
    base = f"http://127.0.0.1:{port}/v1"
    relay_metrics = f"http://127.0.0.1:{metrics_port}/metrics" if metrics_port else "off"
    if metrics_port == 0:
        relay_metrics = "on a free port (see the relay's output above)"
    print(
        f"""
token.place is up.  OpenAI base URL: {base}

  curl {base}/chat/completions -H 'Content-Type: application/json' \\
    -d '{{"model": "{model}", "temperature": 0,
         "messages": [{{"role": "user", "content": "What is the capital of Germany?"}}]}}'

Metrics (Prometheus): gateway http://127.0.0.1:{port}/metrics, relay {relay_metrics}

Press Ctrl-C to stop.
""",
        flush=True,
    )


async def _supervise(children: list[Child]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waits = {asyncio.create_task(c.process.wait()): c for c in children}
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({*waits, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for task in (*waits, stopper):
        task.cancel()
    exited = [waits[t] for t in done if t in waits]
    if exited:
        print(f"tokenplace up: the {exited[0].name} exited; stopping", file=sys.stderr)
        return 1
    return 0


async def _stop_all(children: list[Child]) -> None:
    for child in reversed(children):
        if child.process.returncode is None:
            child.process.send_signal(signal.SIGTERM)
    for child in children:
        try:
            await asyncio.wait_for(child.process.wait(), timeout=10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                child.process.kill()
            await child.process.wait()
