"""An in-process token.place network on port 0: relay, nodes and gateway in one loop.

Each component is the real server (grpc.aio, uvicorn); only the processes are shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tokenplace.e2ee import generate_private_key
from tokenplace.gateway.app import create_app
from tokenplace.gateway.config import GatewaySettings
from tokenplace.node.agent import NodeAgent
from tokenplace.node.config import NodeSettings
from tokenplace.node.engines.base import Engine
from tokenplace.node.engines.echo import EchoEngine
from tokenplace.relay.config import RelaySettings
from tokenplace.relay.server import RelayServer


@dataclass
class RunningNode:
    agent: NodeAgent
    task: asyncio.Task[None]

    async def stop(self) -> None:
        if self.task.done():  # it ended by itself (e.g. removed by the operator)
            return
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@dataclass
class RunningGateway:
    server: uvicorn.Server
    task: asyncio.Task[None]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


_KEYS: dict[int, rsa.RSAPrivateKey] = {}


def test_key(path: Path, index: int) -> rsa.RSAPrivateKey:
    """The index-th cached test key, also written to `path` (0600).

    RSA keygen and validated PEM loading each cost ~50 ms; tests reuse keys.
    """
    if index not in _KEYS:
        _KEYS[index] = generate_private_key()
    path.touch(mode=0o600)
    path.write_bytes(
        _KEYS[index].private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return _KEYS[index]


async def serve_app(app: Any) -> RunningGateway:
    """Serve an ASGI app with uvicorn on a loopback port chosen by the kernel."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # from now on, connections wait in the backlog until uvicorn serves
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    return RunningGateway(server, task, sock.getsockname()[1])


class LocalNetwork:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.relay: RelayServer | None = None
        self.nodes: list[RunningNode] = []
        self.gateways: list[RunningGateway] = []
        # Where nodes and gateways dial, if not the relay itself (e.g. a recording proxy).
        self.relay_address_override: str | None = None

    @property
    def relay_address(self) -> str:
        if self.relay_address_override:
            return self.relay_address_override
        assert self.relay is not None
        return f"127.0.0.1:{self.relay.port}"

    async def start_relay(self, **overrides: Any) -> RelayServer:
        defaults = {
            "host": "127.0.0.1",
            "port": 0,
            "database_url": f"sqlite+aiosqlite:///{self.tmp_path / 'relay.sqlite3'}",
        }
        self.relay = RelayServer(RelaySettings(**{**defaults, **overrides}))
        await self.relay.start()
        return self.relay

    async def start_node(self, engine: Engine | None = None, **overrides: Any) -> RunningNode:
        index = len(self.nodes)
        settings = NodeSettings(
            relay=self.relay_address,
            key_path=self.tmp_path / f"node{index}.pem",
            display_name=f"test-node-{index}",
            reconnect_base_seconds=0.05,
            reconnect_max_seconds=0.5,
            **overrides,
        )
        engine = engine or EchoEngine()
        agent = NodeAgent(settings, engine, test_key(settings.key_path, index))
        node = RunningNode(agent, asyncio.create_task(agent.run()))
        self.nodes.append(node)
        registered = asyncio.ensure_future(agent.registered.wait())
        await asyncio.wait({registered, node.task}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if node.task.done():
            registered.cancel()
            node.task.result()  # the agent gave up: raise why (e.g. RegistrationRejected)
        if not registered.done():
            registered.cancel()
            raise TimeoutError("the node did not register within 10 s")
        return node

    async def start_gateway(self, **overrides: Any) -> RunningGateway:
        settings = GatewaySettings(
            relay=self.relay_address,
            key_path=self.tmp_path / f"gateway{len(self.gateways)}.pem",
            **overrides,
        )
        key = test_key(settings.key_path, 100 + len(self.gateways))
        gateway = await serve_app(create_app(settings, private_key=key))
        self.gateways.append(gateway)
        return gateway

    async def stop(self) -> None:
        for gateway in self.gateways:
            await gateway.stop()
        for node in self.nodes:
            await node.stop()
        if self.relay is not None:
            await self.relay.stop(grace=0)
