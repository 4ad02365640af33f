"""`tokenplace up`: relay, gateway and one node as child processes on localhost.

Children say they are ready on a pipe (readiness.py), not in their logs, so any
`--log-level` and `--log-format` works; what the banner shows (ports, the model
the node serves) comes from their ready messages. A stop asked at any moment
(SIGINT, SIGTERM) stops every child within seconds and exits 0; a child that
ends by itself stops the rest and exits 1, naming it (children.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from tokenplace.cli.children import ChildFailed, Children
from tokenplace.cli.metrics_flag import relay_metrics_port
from tokenplace.cli.stop import Stopped, StopRequest

log = logging.getLogger(__name__)


async def run_up(args: argparse.Namespace, stop: StopRequest) -> int:
    relay_port = _port(args.relay_port, "TOKENPLACE_RELAY_PORT", 50051)
    gateway_port = _port(args.port, "TOKENPLACE_GATEWAY_PORT", 8000)
    engine = args.engine or os.environ.get("TOKENPLACE_NODE_ENGINE", "llama_cpp")
    metrics_port = relay_metrics_port(args.metrics_port)
    metrics_flag = "off" if metrics_port is None else str(metrics_port)
    children = Children(stop, args.log_level, args.log_format)
    try:
        relay = await children.spawn(
            "relay", ["relay", "--port", str(relay_port), "--metrics-port", metrics_flag]
        )
        (relay_ready,) = await children.ready(relay)
        relay_address = f"127.0.0.1:{relay_ready['port']}"
        gateway = await children.spawn(
            "gateway", ["gateway", "--relay", relay_address, "--port", str(gateway_port)]
        )
        node = await children.spawn("node", ["node", "--relay", relay_address, "--engine", engine])
        gateway_ready, node_ready = await children.ready(gateway, node)
        _print_banner(
            gateway_ready["port"], node_ready["model"], relay_address, relay_ready["metrics_url"]
        )
        await children.watch()
        return 0
    except Stopped:
        return 0
    except ChildFailed as failed:
        print(f"tokenplace up: {failed}; stopping the others", file=sys.stderr, flush=True)
        return 1
    finally:
        await children.stop_all()
        log.info("stopped")


def _port(flag: int | None, variable: str, default: int) -> int:
    """The flag (0 included: a free port), else the environment, else the default."""
    if flag is not None:
        return flag
    return int(os.environ.get(variable, default))


def _print_banner(port: int, model: str, relay: str, relay_metrics: str | None) -> None:
    base = f"http://127.0.0.1:{port}/v1"
    print(
        f"""
token.place is up.  OpenAI base URL: {base}

  curl {base}/chat/completions -H 'Content-Type: application/json' \\
    -d '{{"model": "{model}", "temperature": 0,
         "messages": [{{"role": "user", "content": "What is the capital of Germany?"}}]}}'

Relay (gRPC): {relay}
Metrics (Prometheus): gateway http://127.0.0.1:{port}/metrics, relay {relay_metrics or "off"}

Press Ctrl-C to stop.
""",
        flush=True,
    )
