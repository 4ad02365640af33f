"""A node's slot is free once generation ends: a job the relay sends on reading the
previous result is accepted even while that result's write is still unacknowledged."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from tokenplace.client.convert import envelope_pb
from tokenplace.e2ee import generate_private_key, public_key_b64, seal_json
from tokenplace.node.agent import NodeAgent
from tokenplace.node.config import NodeSettings
from tokenplace.node.engines.echo import EchoEngine
from tokenplace.v1 import node_pb2


class UnacknowledgedWrites:
    """A Connect stream whose writes reach the relay but are acknowledged only on
    `acknowledge()`: what a loaded node sees when the relay reads a result (and sends
    the next job) before the write's completion reaches the node's event loop."""

    def __init__(self) -> None:
        self.written: list[node_pb2.ConnectRequest] = []
        self.result_written = asyncio.Event()
        self._acknowledged = asyncio.Event()

    async def write(self, message: node_pb2.ConnectRequest) -> None:
        self.written.append(message)
        self.result_written.set()
        await self._acknowledged.wait()

    def acknowledge(self) -> None:
        self._acknowledged.set()


def echo_job(
    job_id: str, node_key: rsa.RSAPrivateKey, client_key: rsa.RSAPrivateKey
) -> node_pb2.Job:
    client = public_key_b64(client_key)
    request = {"model": "echo", "messages": [{"role": "user", "content": job_id}]}
    sealed = seal_json(
        {"request_id": job_id, "client_public_key": client, "request": request},
        node_key.public_key(),
    )
    return node_pb2.Job(job_id=job_id, model="echo", envelope=envelope_pb(client, job_id, sealed))


async def test_the_next_job_is_accepted_before_the_last_result_is_acknowledged(
    tmp_path: Path,
) -> None:
    node_key, client_key = generate_private_key(), generate_private_key()
    settings = NodeSettings(engine="echo", slots=1, key_path=tmp_path / "key.pem")
    agent = NodeAgent(settings, EchoEngine(), node_key)
    call = UnacknowledgedWrites()
    outbound: asyncio.Queue[node_pb2.ConnectRequest] = asyncio.Queue()

    agent._accept(call, echo_job("job-1", node_key, client_key), outbound, refuse=False)  # type: ignore[arg-type]
    await asyncio.wait_for(call.result_written.wait(), 10)
    assert call.written[0].job_result.HasField("response")
    assert agent.active_jobs == 0

    agent._accept(call, echo_job("job-2", node_key, client_key), outbound, refuse=False)  # type: ignore[arg-type]
    assert outbound.empty(), "the second job was refused as busy"
    assert agent.active_jobs == 1
    call.acknowledge()
    await asyncio.wait_for(asyncio.gather(*agent._tasks), 10)
    second = call.written[1].job_result
    assert second.job_id == "job-2" and second.HasField("response")
    agent._executor.shutdown()
