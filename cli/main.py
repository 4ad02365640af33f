"""`tokenplace up | relay | gateway | node`: run the network or one of its processes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from tokenplace.cli import event_loop, settings_errors
from tokenplace.cli.admin import add_admin_parser
from tokenplace.cli.logs import LOG_FORMATS, configure_logging
from tokenplace.cli.metrics_flag import METRICS_PORT_HELP, metrics_port, relay_metrics_port
from tokenplace.cli.roles import missing_role
from tokenplace.cli.stop import StopRequest
from tokenplace.node.engines.registry import engine_names

SWITCH_INTERVAL_SECONDS = 0.0005


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tokenplace", description=__doc__)
    parser.add_argument("--log-level", default=os.environ.get("TOKENPLACE_LOG_LEVEL", "INFO"))
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=os.environ.get("TOKENPLACE_LOG_FORMAT", "text"),
        help="text (key=value) or json (one object per line) (TOKENPLACE_LOG_FORMAT)",
    )
    # Set by a supervisor (`tokenplace up`) for its children: see readiness.py, lifeline.py.
    parser.add_argument("--ready-fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--lifeline-fd", type=int, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="relay, gateway and one node on localhost")
    up.add_argument(
        "--relay-port", type=int, help="default 50051 (TOKENPLACE_RELAY_PORT); 0: a free port"
    )
    up.add_argument(
        "--port",
        type=int,
        help="gateway port, default 8000 (TOKENPLACE_GATEWAY_PORT); 0: a free port",
    )
    engines = engine_names()  # the installed engines' entry points; none is imported
    up.add_argument("--engine", choices=engines, help="default llama_cpp (TOKENPLACE_NODE_ENGINE)")
    up.add_argument("--metrics-port", type=metrics_port, help=METRICS_PORT_HELP)

    relay = commands.add_parser("relay", help="run the relay (gRPC control plane)")
    relay.add_argument("--host")
    relay.add_argument("--port", type=int, help="default 50051 (TOKENPLACE_RELAY_PORT)")
    relay.add_argument("--metrics-port", type=metrics_port, help=METRICS_PORT_HELP)

    gateway = commands.add_parser("gateway", help="run the OpenAI-compatible HTTP gateway")
    gateway.add_argument("--relay", help="relay HOST:PORT (TOKENPLACE_GATEWAY_RELAY)")
    gateway.add_argument("--host")
    gateway.add_argument("--port", type=int, help="default 8000 (TOKENPLACE_GATEWAY_PORT)")

    node = commands.add_parser("node", help="run a compute node")
    node.add_argument("--relay", help="relay HOST:PORT (TOKENPLACE_NODE_RELAY)")
    node.add_argument(
        "--gateway",
        help="reach the network over HTTP only, through this gateway URL "
        "(register, long-poll, post sealed answers) instead of a gRPC stream",
    )
    node.add_argument(
        "--engine", choices=engines, help="default llama_cpp (TOKENPLACE_NODE_ENGINE)"
    )
    node.add_argument("--model-path", help="a GGUF file (default: bundled SmolLM2)")
    node.add_argument("--slots", type=int, help="concurrent jobs (TOKENPLACE_NODE_SLOTS)")
    node.add_argument("--key-path", help="the node's RSA key (created 0600 if absent)")
    node.add_argument("--name", dest="display_name", help="name shown to operators")
    node.add_argument(
        "--instance-token",
        help="register as this Token Router instance (TOKENPLACE_NODE_INSTANCE_TOKEN)",
    )
    node.add_argument(
        "--join-token",
        help="the network's join token, if the relay requires one (TOKENPLACE_NODE_JOIN_TOKEN)",
    )
    add_admin_parser(commands)

    status = commands.add_parser("status", help="live view of nodes, load and throughput")
    status.add_argument(
        "--relay",
        help="relay HOST:PORT (TOKENPLACE_RELAY, else TOKENPLACE_GATEWAY_RELAY; 127.0.0.1:50051)",
    )
    status.add_argument("--json", action="store_true", help="print one JSON snapshot and exit")
    status.add_argument("--window", type=float, default=30.0, help="throughput window, seconds")
    status.add_argument("--timeout", type=float, default=5.0, help="deadline per relay call")
    return parser


def overrides(args: argparse.Namespace, *names: str) -> dict[str, object]:
    """Flags the user actually gave, to layer over environment-derived settings."""
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level, args.log_format)
    # Hand the GIL over sooner (default 5 ms): a job finishing in a worker thread, or a
    # gRPC callback, otherwise waits for the event loop's slice to run out.
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    try:
        return event_loop.run(_dispatch(args))
    except KeyboardInterrupt:
        return 130


async def _dispatch(args: argparse.Namespace) -> int:
    if args.command in ("relay", "gateway", "node", "up"):
        missing = missing_role(args.command)
        if missing is not None:
            print(missing, file=sys.stderr)
            return 2
        # First, before anything starts: a signal at any moment asks for a graceful stop.
        stop = StopRequest()
        stop.install(args.lifeline_fd)
        try:
            return await _run(args, stop)
        except ValidationError as invalid:  # a flag or TOKENPLACE_* variable
            print(settings_errors.describe(args.command, invalid), file=sys.stderr)
            return 2
    if args.command == "admin":
        from tokenplace.cli.admin import run_admin

        return await run_admin(args)
    from tokenplace.cli.status import run_status

    return await run_status(args)


async def _run(args: argparse.Namespace, stop: StopRequest) -> int:
    if args.command == "relay":
        from tokenplace.cli.run import run_relay

        flags = overrides(args, "host", "port")
        flags["metrics_port"] = relay_metrics_port(args.metrics_port)
        return await run_relay(flags, stop, args.ready_fd)
    if args.command == "gateway":
        from tokenplace.cli.run import run_gateway

        return await run_gateway(overrides(args, "relay", "host", "port"), stop, args.ready_fd)
    if args.command == "node":
        from tokenplace.cli.run import run_node

        return await run_node(
            overrides(
                args,
                "relay",
                "gateway",
                "engine",
                "model_path",
                "slots",
                "key_path",
                "display_name",
                "instance_token",
                "join_token",
            ),
            stop,
            args.ready_fd,
        )
    from tokenplace.cli.up import run_up

    return await run_up(args, stop)


if __name__ == "__main__":
    sys.exit(main())
