"""`tokenplace status`: a live view of the network from the relay's MonitoringService.

The view starts from ListNodes / ListRelays / GetClusterStats, then follows WatchEvents
(job events update counters and the throughput window; node events re-fetch the node
list; a periodic resync corrects anything a dropped event left stale). `--json` prints
one snapshot for scripts and exits; a relay that cannot be reached is a one-line
error on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from dataclasses import asdict
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.live import Live

from tokenplace.cli.status_view import StatusState, render
from tokenplace.client.errors import RelayCallError
from tokenplace.client.monitoring import MonitoringClient
from tokenplace.client.relay import RelayClient

DEFAULT_RELAY = "127.0.0.1:50051"
REFRESH_SECONDS = 0.5
RESYNC_SECONDS = 10.0
RETRY_SECONDS = 2.0


def default_relay() -> str:
    """TOKENPLACE_RELAY (as `tokenplace admin`), else the gateway's relay setting."""
    return (
        os.environ.get("TOKENPLACE_RELAY")
        or os.environ.get("TOKENPLACE_GATEWAY_RELAY")
        or DEFAULT_RELAY
    )


async def run_status(args: argparse.Namespace) -> int:
    """`args`: relay (None: default_relay()), json, window and timeout (seconds)."""
    relay = args.relay or default_relay()
    async with RelayClient(relay, args.timeout) as relay_client:
        client = relay_client.monitoring
        try:
            if args.json:
                print(json.dumps(await snapshot(client), indent=2, default=_json_default))
                return 0
            state = StatusState(relay=relay, started=time.time(), window_seconds=args.window)
            await refresh(client, state)
            await show_live(client, state, Console())
        except RelayCallError as error:  # RelayUnreachable says which address it tried
            print(f"tokenplace status: {error}", file=sys.stderr)
            return 1
    return 0


async def snapshot(client: MonitoringClient) -> dict[str, Any]:
    """Nodes, relays and cluster stats, with stable snake_case keys."""
    nodes, relays, stats = await asyncio.gather(
        client.list_nodes(), client.list_relays(), client.cluster_stats()
    )
    return {
        "relay": client.address,
        "nodes": [asdict(node) for node in nodes],
        "relays": [asdict(relay) for relay in relays],
        "stats": asdict(stats),
    }


async def refresh(client: MonitoringClient, state: StatusState) -> None:
    state.nodes, state.relays, state.stats = await asyncio.gather(
        client.list_nodes(), client.list_relays(), client.cluster_stats()
    )


async def show_live(client: MonitoringClient, state: StatusState, console: Console) -> None:
    """Redraw from the event loop (auto_refresh off: no thread reads the state)."""
    with Live(render(state, time.time()), console=console, auto_refresh=False) as live:
        follower = asyncio.create_task(follow(client, state))
        resyncer = asyncio.create_task(resync(client, state))
        try:
            while not follower.done():
                live.update(render(state, time.time()), refresh=True)
                await asyncio.wait({follower}, timeout=REFRESH_SECONDS)
            follower.result()
        finally:
            for task in (follower, resyncer):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def follow(client: MonitoringClient, state: StatusState) -> None:
    """Apply the event stream forever; while the relay is away, say so and retry."""
    while True:
        try:
            async for event in client.watch_events():
                state.error = None
                if state.apply(event, time.time()):
                    await refresh(client, state)
            state.error = "the relay ended the event stream; reconnecting"
        except RelayCallError as error:
            state.error = error.message
        await asyncio.sleep(RETRY_SECONDS)
        with contextlib.suppress(RelayCallError):
            await refresh(client, state)
            state.error = None


async def resync(client: MonitoringClient, state: StatusState) -> None:
    while True:
        await asyncio.sleep(RESYNC_SECONDS)
        with contextlib.suppress(RelayCallError):
            await refresh(client, state)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
