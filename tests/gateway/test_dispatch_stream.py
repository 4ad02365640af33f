"""Dispatch calls multiplexed over one gateway->relay stream behave like unary calls."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tests.support.network import LocalNetwork
from tokenplace.client.errors import RelayCallError
from tokenplace.client.inference import InferenceClient
from tokenplace.client.relay import RelayClient
from tokenplace.e2ee import generate_private_key, public_key_b64
from tokenplace.e2ee.payload import InnerRequest, InnerResponse, JobRequest
from tokenplace.e2ee.session import Opener, Sealer
from tokenplace.gateway.errors import from_relay
from tokenplace.node.engines.base import Generation, GenerationCancelled, GenerationRequest
from tokenplace.node.engines.echo import EchoEngine


class HeldEchoEngine(EchoEngine):
    """Echo that holds every generation until released or cancelled (records cancels)."""

    def __init__(self, slots: int) -> None:
        super().__init__(slots=slots)
        self.release = threading.Event()
        self.cancellations = 0
        self.started = threading.Semaphore(0)

    def generate(self, request: GenerationRequest, cancelled: threading.Event) -> Generation:
        self.started.release()
        while not self.release.wait(0.01):
            if cancelled.is_set():
                self.cancellations += 1
                raise GenerationCancelled
        return super().generate(request, cancelled)


class Caller:
    """The gateway's E2EE client side, driving InferenceClient.dispatch directly."""

    def __init__(self, relay: InferenceClient) -> None:
        self.relay = relay
        self.key = generate_private_key()
        self.public_key = public_key_b64(self.key)
        self.sealer, self.opener = Sealer(), Opener(self.key)

    async def chat(self, text: str, request_id: str, wait_seconds: float = 10.0) -> str:
        node = await self.relay.select_node("echo")
        job = JobRequest(model="echo", messages=[{"role": "user", "content": text}])
        inner = InnerRequest(request_id=request_id, client_public_key=self.public_key, request=job)
        sealed = self.sealer.seal_json(inner.model_dump(exclude_none=True), node.public_key)
        dispatched = await self.relay.dispatch(
            node, "echo", self.public_key, request_id, sealed, timeout_seconds=wait_seconds
        )
        reply = InnerResponse.model_validate(self.opener.open_json(dispatched.response))
        assert reply.request_id == request_id and reply.response is not None
        return reply.response["choices"][0]["message"]["content"]


@pytest.fixture
async def relay_client(network: LocalNetwork):
    client = RelayClient(network.relay_address, timeout_seconds=5)
    yield client.inference
    await client.close()


async def test_concurrent_calls_each_get_their_own_answer(network, relay_client) -> None:
    engine = HeldEchoEngine(slots=8)
    await network.start_node(engine)
    caller = Caller(relay_client)
    calls = [asyncio.create_task(caller.chat(f"prompt {n}", f"req-{n}")) for n in range(8)]
    for _ in range(8):  # all eight are running on the node at once
        await asyncio.to_thread(engine.started.acquire)
    engine.release.set()
    answers = await asyncio.gather(*calls)
    assert answers == [f"echo: prompt {n}" for n in range(8)]


async def test_a_caller_that_stops_waiting_cancels_the_job_on_the_node(
    network, relay_client
) -> None:
    engine = HeldEchoEngine(slots=1)
    await network.start_node(engine)
    caller = Caller(relay_client)
    waiting = asyncio.create_task(caller.chat("hold on", "req-cancel"))
    await asyncio.to_thread(engine.started.acquire)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await network.relay.dispatcher.wait_idle()  # the node reported the cancelled job
    assert engine.cancellations == 1
    engine.release.set()
    assert await caller.chat("next", "req-after") == "echo: next"  # the stream lives on


async def test_the_call_timeout_is_the_job_deadline(network, relay_client) -> None:
    engine = HeldEchoEngine(slots=1)
    await network.start_node(engine)
    with pytest.raises(RelayCallError) as raised:
        await Caller(relay_client).chat("too slow", "req-slow", wait_seconds=0.3)
    assert from_relay(raised.value).status == 504
    await network.relay.dispatcher.wait_idle()
    assert engine.cancellations == 1


async def test_errors_come_back_as_a_unary_call_would_raise_them(network, relay_client) -> None:
    await network.start_node()
    caller = Caller(relay_client)
    node = await relay_client.select_node("echo")
    sealed = caller.sealer.seal(b"{}", node.public_key)
    with pytest.raises(RelayCallError) as raised:
        await relay_client.dispatch(
            node, "no-such-model", caller.public_key, "r", sealed, timeout_seconds=5
        )
    assert raised.value.reason_name == "MODEL_NOT_FOUND"
    http = from_relay(raised.value)
    assert (http.status, http.code, http.param) == (404, "model_not_found", "model")


async def test_a_relay_restart_fails_calls_in_flight_and_the_next_call_reconnects(
    network, relay_client
) -> None:
    engine = HeldEchoEngine(slots=1)
    await network.start_node(engine)
    caller = Caller(relay_client)
    waiting = asyncio.create_task(caller.chat("in flight", "req-lost"))
    await asyncio.to_thread(engine.started.acquire)
    port = network.relay.port
    await network.relay.stop(grace=0)
    with pytest.raises(RelayCallError) as raised:
        await waiting
    assert from_relay(raised.value).status == 503
    engine.release.set()
    await network.start_relay(port=port)
    await network.relay.registry.wait_until(lambda: bool(network.relay.registry.online()))
    assert await caller.chat("back again", "req-back") == "echo: back again"
