"""Run one process of the network until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable
from typing import Any

log = logging.getLogger(__name__)


async def wait_for_signal() -> None:
    """Return at the first SIGINT or SIGTERM."""
    received = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, received.set)
    await received.wait()


async def until_signalled(work: Awaitable[Any]) -> None:
    """Await `work` until it ends or a signal arrives; then cancel it cleanly."""
    task = asyncio.ensure_future(work)
    signalled = asyncio.create_task(wait_for_signal())
    await asyncio.wait({task, signalled}, return_when=asyncio.FIRST_COMPLETED)
    signalled.cancel()
    if not task.done():
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def run_relay(flags: dict[str, Any]) -> int:
    from tokenplace.relay.config import RelaySettings
    from tokenplace.relay.server import RelayServer

    relay = RelayServer(RelaySettings(**flags))
    await relay.start()
    print(f"relay: listening on {relay.address}", flush=True)
    if relay.metrics_server is not None:
        print(f"relay: Prometheus metrics at {relay.metrics_server.url}", flush=True)
    try:
        await wait_for_signal()  # never cancel wait_for_termination: it breaks stop()
    finally:
        await relay.stop()
    return 0


async def run_gateway(flags: dict[str, Any]) -> int:
    import uvicorn

    from tokenplace.gateway.app import create_app
    from tokenplace.gateway.config import GatewaySettings

    settings = GatewaySettings(**flags)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    await server.serve()
    return 0


async def run_node(flags: dict[str, Any]) -> int:
    from tokenplace.e2ee import load_or_create_private_key
    from tokenplace.node.agent import NodeAgent, RegistrationRejected
    from tokenplace.node.config import NodeSettings
    from tokenplace.node.engines import create_engine
    from tokenplace.node.engines.base import EngineUnavailable
    from tokenplace.node.http_agent import HttpNodeAgent

    settings = NodeSettings(**flags)
    try:
        engine = await asyncio.to_thread(create_engine, settings)
    except EngineUnavailable as unavailable:  # the operator's to fix: one line, no traceback
        print(f"tokenplace node: {unavailable}", file=sys.stderr, flush=True)
        return 2
    key = load_or_create_private_key(settings.key_path)
    agent: NodeAgent | HttpNodeAgent
    if settings.gateway:
        join_token = settings.join_token.get_secret_value() if settings.join_token else None
        agent = HttpNodeAgent(
            settings.gateway, engine, key, settings.display_name, join_token=join_token
        )
    else:
        agent = NodeAgent(settings, engine, key)
    print(f"node: serving {engine.model.id} via {settings.gateway or settings.relay}", flush=True)
    try:
        await until_signalled(agent.run())
    except RegistrationRejected as rejected:
        log.error("the relay refused this node: %s", rejected)
        return 2
    finally:
        engine.close()
    return 0
