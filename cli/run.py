"""Run one process of the network until it is asked to stop (see stop.py).

Each `run_*` installs nothing itself: `main` hands it the process's StopRequest,
already listening for signals, and the readiness pipe's fd when a supervisor
gave one (see readiness.py). A stop that arrives while the process is still
starting ends the start (migrations, model load) and then shuts down what did
start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from tokenplace.cli.readiness import announce_ready
from tokenplace.cli.stop import Stopped, StopRequest
from tokenplace.cli.threads import in_daemon_thread

log = logging.getLogger(__name__)
# How long the gateway waits for in-flight requests once asked to stop; the relay
# and node bound their own stops (RelaySettings.drain_grace_seconds,
# NodeSettings.stop_grace_seconds), so a supervised `up` stops within seconds.
GATEWAY_SHUTDOWN_GRACE_SECONDS = 5


async def run_relay(flags: dict[str, Any], stop: StopRequest, ready_fd: int | None) -> int:
    from tokenplace.relay.config import RelaySettings
    from tokenplace.relay.server import RelayServer

    relay = RelayServer(RelaySettings(**flags))
    try:
        await stop.unless_stopped(relay.start())
        print(f"relay: listening on {relay.address}", flush=True)
        metrics_url = relay.metrics_server.url if relay.metrics_server is not None else None
        if metrics_url is not None:
            print(f"relay: Prometheus metrics at {metrics_url}", flush=True)
        announce_ready(ready_fd, address=relay.address, port=relay.port, metrics_url=metrics_url)
        await stop.wait()  # never cancel wait_for_termination: it breaks stop()
    except Stopped:
        pass
    finally:
        await relay.stop()
    return 0


async def run_gateway(flags: dict[str, Any], stop: StopRequest, ready_fd: int | None) -> int:
    import uvicorn

    from tokenplace.cli.uvicorn_server import SupervisedServer
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
        timeout_graceful_shutdown=GATEWAY_SHUTDOWN_GRACE_SECONDS,
    )
    server = SupervisedServer(config)

    def exit_server() -> None:
        server.should_exit = True

    async def announce() -> None:
        await server.listening.wait()
        if not stop.requested:
            announce_ready(ready_fd, url=server.url, port=server.port)

    async with _alongside(_on_stop(stop, exit_server), announce()):
        await server.serve()
    return 0


async def run_node(flags: dict[str, Any], stop: StopRequest, ready_fd: int | None) -> int:
    from tokenplace.e2ee import load_or_create_private_key
    from tokenplace.node.agent import NodeAgent, RegistrationRejected
    from tokenplace.node.config import NodeSettings
    from tokenplace.node.engines import create_engine
    from tokenplace.node.engines.base import EngineUnavailable
    from tokenplace.node.polling_agent import PollingNodeAgent

    settings = NodeSettings(**flags)
    try:  # a model can take long to load: a stop meanwhile must not wait for it
        engine = await stop.unless_stopped(
            in_daemon_thread(lambda: create_engine(settings), "load-model")
        )
    except Stopped:
        return 0
    except EngineUnavailable as unavailable:  # the operator's to fix: one line, no traceback
        print(f"tokenplace node: {unavailable}", file=sys.stderr, flush=True)
        return 2
    try:
        key = load_or_create_private_key(settings.key_path)
        agent: NodeAgent | PollingNodeAgent
        if settings.gateway:
            join_token = settings.join_token.get_secret_value() if settings.join_token else None
            agent = PollingNodeAgent(
                settings.gateway,
                engine,
                key,
                settings.display_name,
                join_token=join_token,
                stop_grace_seconds=settings.stop_grace_seconds,
            )
        else:
            agent = NodeAgent(settings, engine, key)
        via = settings.gateway or settings.relay
        print(f"node: serving {engine.model.id} via {via}", flush=True)

        async def announce() -> None:
            await agent.registered.wait()
            announce_ready(ready_fd, node_id=agent.node_id, model=engine.model.id, via=via)

        async with _alongside(_on_stop(stop, agent.stop), announce()):
            await agent.run()  # returns once agent.stop() has finished or failed its jobs
    except RegistrationRejected as rejected:
        log.error("the relay refused this node: %s", rejected)
        return 2
    finally:
        engine.close()
    return 0


async def _on_stop(stop: StopRequest, action: Callable[[], None]) -> None:
    await stop.wait()
    action()


@contextlib.asynccontextmanager
async def _alongside(*helpers: Awaitable[None]) -> AsyncIterator[None]:
    """Run `helpers` as tasks for the duration of the block, then cancel them."""
    tasks = [asyncio.ensure_future(helper) for helper in helpers]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
