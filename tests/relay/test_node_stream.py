"""NodeService.Connect driven by a hand-rolled node: the wire contract any node relies on.

The node here is written against the .proto alone (no node.agent code), so these tests
pin down what a third-party node implementation may depend on.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.network import LocalNetwork
from tokenplace.client.errors import from_rpc_error
from tokenplace.e2ee import generate_private_key, public_key_b64, sign_nonce
from tokenplace.relay.registry import Registry
from tokenplace.relay.server import RelayServer
from tokenplace.relay.slots import SlotPool
from tokenplace.v1 import (
    common_pb2,
    inference_pb2,
    inference_pb2_grpc,
    node_pb2,
    node_pb2_grpc,
    sealed_pb2,
    sealed_pb2_grpc,
)

MODEL = "hand-model"
# Upper bound for any single wait; each step normally takes milliseconds.
STEP_SECONDS = 5.0
NODE_CIPHERTEXT = b"sealed answer from the node"


@functools.cache
def rsa_key(index: int) -> rsa.RSAPrivateKey:
    """Test keys, generated once per process (RSA generation is slow)."""
    return generate_private_key()


def client_public_key() -> str:
    return public_key_b64(rsa_key(99))


class HandNode:
    """One raw NodeService.Connect stream, spoken message by message."""

    def __init__(self, address: str, key: rsa.RSAPrivateKey) -> None:
        self.key = key
        self.public_key = public_key_b64(key)
        self.channel = grpc.aio.insecure_channel(address)
        self.call = node_pb2_grpc.NodeServiceStub(self.channel).Connect()
        self.node_id = ""

    async def read(self) -> node_pb2.ConnectResponse:
        async with asyncio.timeout(STEP_SECONDS):
            message = await self.call.read()
        assert message is not grpc.aio.EOF, "the relay ended the stream"
        return message

    async def expect(self, kind: str) -> Any:
        """The next message from the relay, which must carry payload `kind`."""
        message = await self.read()
        assert message.WhichOneof("payload") == kind, message
        return getattr(message, kind)

    async def challenge(self) -> bytes:
        return (await self.expect("challenge")).nonce

    async def send(self, **payload: Any) -> None:
        await self.call.write(node_pb2.ConnectRequest(**payload))

    def register_message(
        self,
        nonce: bytes,
        models: Sequence[str] = (MODEL,),
        slots: int = 1,
        signature: bytes | None = None,
    ) -> node_pb2.Register:
        cards = [common_pb2.ModelCard(id=m, owned_by="hand", created=1_700_000_000) for m in models]
        return node_pb2.Register(
            public_key=self.public_key,
            nonce_signature=signature if signature is not None else sign_nonce(self.key, nonce),
            models=cards,
            slots=slots,
            inventory=common_pb2.NodeInventory(hostname="hand", engine="none"),
            display_name="hand-rolled",
        )

    async def register(self, models: Sequence[str] = (MODEL,), slots: int = 1) -> Any:
        nonce = await self.challenge()
        await self.send(register=self.register_message(nonce, models, slots))
        registered = await self.expect("registered")
        self.node_id = registered.node_id
        return registered

    async def deliver(self, job_id: str, ciphertext: bytes = NODE_CIPHERTEXT) -> None:
        """A JobResult as a real node sends it: sealed answer, no routing fields."""
        envelope = common_pb2.Envelope(ciphertext=ciphertext, cipherkey=b"k" * 256, iv=b"i" * 12)
        usage = common_pb2.Usage(prompt_tokens=3, completion_tokens=5)
        await self.send(
            job_result=node_pb2.JobResult(job_id=job_id, response=envelope, usage=usage)
        )

    async def fail(self, job_id: str, reason: int, message: str = "") -> None:
        failure = node_pb2.JobFailure(reason=reason, message=message)
        await self.send(job_result=node_pb2.JobResult(job_id=job_id, failure=failure))

    async def ended_with(self) -> grpc.StatusCode:
        """Read until the relay ends the stream; returns its final status code."""
        try:
            async with asyncio.timeout(STEP_SECONDS):
                while await self.call.read() is not grpc.aio.EOF:
                    pass
        except grpc.aio.AioRpcError as error:
            return error.code()
        return await self.call.code()

    async def close(self) -> None:
        self.call.cancel()
        await self.channel.close()


Dial = Callable[..., HandNode]


@pytest.fixture
def relay(network: LocalNetwork) -> RelayServer:
    assert network.relay is not None
    return network.relay


@pytest.fixture
async def dial(network: LocalNetwork) -> AsyncIterator[Dial]:
    """Opens hand-rolled node streams (key 0 unless told); closes them after the test."""
    opened: list[HandNode] = []

    def connect(key_index: int = 0) -> HandNode:
        node = HandNode(network.relay_address, rsa_key(key_index))
        opened.append(node)
        return node

    yield connect
    for node in opened:
        await node.close()


@pytest.fixture
async def inference(
    network: LocalNetwork,
) -> AsyncIterator[inference_pb2_grpc.InferenceServiceStub]:
    async with grpc.aio.insecure_channel(network.relay_address) as channel:
        yield inference_pb2_grpc.InferenceServiceStub(channel)


@pytest.fixture
async def hand(dial: Dial) -> HandNode:
    """A registered hand-rolled node serving MODEL with one slot."""
    node = dial()
    await node.register()
    return node


def dispatch_request(node_id: str, request_id: str = "req-1") -> inference_pb2.DispatchRequest:
    envelope = common_pb2.Envelope(
        client_public_key=client_public_key(),
        request_id=request_id,
        ciphertext=b"sealed question",
        cipherkey=b"c" * 256,
        iv=b"v" * 12,
    )
    return inference_pb2.DispatchRequest(node_id=node_id, model=MODEL, envelope=envelope)


async def failed(call: Any, within: float = STEP_SECONDS) -> grpc.aio.AioRpcError:
    """Await a unary call that must fail within `within` seconds; returns its error."""
    async with asyncio.timeout(within):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
    return caught.value


# --- registration -------------------------------------------------------------------------


async def test_relay_speaks_first_with_a_fresh_random_challenge(dial: Dial) -> None:
    first, second = await dial().challenge(), await dial().challenge()
    assert len(first) >= 16
    assert len(second) >= 16
    assert first != second


@pytest.mark.parametrize("forgery", ["other_nonce", "other_key"])
async def test_register_without_proof_of_possession_is_unauthenticated(
    dial: Dial, relay: RelayServer, forgery: str
) -> None:
    node = dial()
    nonce = await node.challenge()
    if forgery == "other_nonce":
        signature = sign_nonce(node.key, os.urandom(len(nonce)))
    else:
        signature = sign_nonce(rsa_key(1), nonce)
    await node.send(register=node.register_message(nonce, signature=signature))
    assert await node.ended_with() == grpc.StatusCode.UNAUTHENTICATED
    assert relay.registry.all() == []


@pytest.mark.parametrize(
    "first",
    [
        node_pb2.ConnectRequest(heartbeat=node_pb2.Heartbeat(active_jobs=0)),
        node_pb2.ConnectRequest(job_accepted=node_pb2.JobAccepted(job_id="x")),
    ],
    ids=["heartbeat", "job_accepted"],
)
async def test_first_message_other_than_register_is_failed_precondition(
    dial: Dial, relay: RelayServer, first: node_pb2.ConnectRequest
) -> None:
    node = dial()
    await node.challenge()
    await node.call.write(first)
    assert await node.ended_with() == grpc.StatusCode.FAILED_PRECONDITION
    assert relay.registry.all() == []


@pytest.mark.parametrize(
    ("models", "slots"),
    [((), 1), ((MODEL,), 0), ((MODEL,), 257)],
    ids=["no_models", "0_slots", "257_slots"],
)
async def test_register_without_capacity_is_invalid_argument(
    dial: Dial, relay: RelayServer, models: tuple[str, ...], slots: int
) -> None:
    node = dial()
    nonce = await node.challenge()
    await node.send(register=node.register_message(nonce, models=models, slots=slots))
    assert await node.ended_with() == grpc.StatusCode.INVALID_ARGUMENT
    assert relay.registry.all() == []


def weak_key_b64() -> str:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return public_key_b64(weak)


@pytest.mark.parametrize(
    "public_key",
    [
        pytest.param(lambda: "not a key", id="garbage"),
        pytest.param(weak_key_b64, id="rsa_1024"),
        pytest.param(
            lambda: "-----BEGIN PUBLIC KEY-----\nnon-ascii: \u00e9\n-----END PUBLIC KEY-----",
            id="non_ascii_pem",
        ),
    ],
)
async def test_register_with_an_unacceptable_public_key_is_invalid_argument(
    dial: Dial, relay: RelayServer, public_key: Callable[[], str]
) -> None:
    node = dial()
    nonce = await node.challenge()
    register = node.register_message(nonce)
    register.public_key = public_key()
    await node.send(register=register)
    assert await node.ended_with() == grpc.StatusCode.INVALID_ARGUMENT
    assert relay.registry.all() == []


async def test_registered_node_is_listed_and_selectable(
    dial: Dial, relay: RelayServer, inference: inference_pb2_grpc.InferenceServiceStub
) -> None:
    node = dial()
    registered = await node.register(slots=2)
    assert registered.node_id == Registry.node_id_for(node.public_key)
    assert registered.heartbeat_interval_seconds == relay.settings.heartbeat_interval_seconds > 0
    listed = await inference.ListModels(inference_pb2.ListModelsRequest(), timeout=STEP_SECONDS)
    served = {model.card.id: model for model in listed.models}
    assert served[MODEL].node_count == 1
    assert served[MODEL].free_slots == 2
    chosen = await inference.SelectNode(inference_pb2.SelectNodeRequest(model=MODEL))
    assert (chosen.node_id, chosen.public_key) == (registered.node_id, node.public_key)


# --- dispatch -----------------------------------------------------------------------------


async def test_dispatch_reaches_the_node_and_its_result_comes_back(
    hand: HandNode, inference: inference_pb2_grpc.InferenceServiceStub
) -> None:
    request = dispatch_request(hand.node_id)
    call = inference.Dispatch(request, timeout=STEP_SECONDS)
    job = await hand.expect("job")
    assert job.model == MODEL
    assert job.envelope == request.envelope
    # The caller's deadline, not the relay's 300 s default (gRPC rounds it up a little).
    assert time.time() < job.deadline.ToNanoseconds() / 1e9 <= time.time() + STEP_SECONDS + 1
    await hand.send(job_accepted=node_pb2.JobAccepted(job_id=job.job_id))
    await hand.deliver(job.job_id)
    reply = await call
    assert reply.node_id == hand.node_id
    assert reply.response.ciphertext == NODE_CIPHERTEXT
    assert reply.response.client_public_key == client_public_key()
    assert reply.response.request_id == "req-1"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (3, 5)


async def test_a_dispatched_job_does_not_ask_the_node_to_report_its_start(
    hand: HandNode, inference: inference_pb2_grpc.InferenceServiceStub
) -> None:
    # Nobody can look up a Dispatch's state, so a JobAccepted would be a wasted hop.
    call = inference.Dispatch(dispatch_request(hand.node_id), timeout=STEP_SECONDS)
    job = await hand.expect("job")
    assert job.report_start is False
    await hand.deliver(job.job_id)
    await call


async def test_a_sealed_request_runs_once_its_node_reports_the_start(
    hand: HandNode, network: LocalNetwork, relay: RelayServer
) -> None:
    envelope = dispatch_request(hand.node_id, "req-sealed").envelope
    submit = sealed_pb2.SubmitSealedRequest(
        server_public_key=hand.public_key, envelope=envelope, cancel_token="t" * 32
    )
    lookup = sealed_pb2.RetrieveSealedRequest(
        client_public_key=client_public_key(), request_id="req-sealed"
    )
    async with grpc.aio.insecure_channel(network.relay_address) as channel:
        sealed = sealed_pb2_grpc.SealedRequestServiceStub(channel)
        await sealed.SubmitSealed(submit, timeout=STEP_SECONDS)
        job = await hand.expect("job")
        assert job.report_start is True
        state = (await sealed.RetrieveSealed(lookup, timeout=STEP_SECONDS)).state
        assert state == sealed_pb2.REQUEST_STATE_QUEUED
        await hand.send(job_accepted=node_pb2.JobAccepted(job_id=job.job_id))
        async with asyncio.timeout(STEP_SECONDS):
            await relay.dispatcher.changes.wait_until(
                lambda: any(j.accepted for j in relay.dispatcher.jobs())
            )
        state = (await sealed.RetrieveSealed(lookup, timeout=STEP_SECONDS)).state
        assert state == sealed_pb2.REQUEST_STATE_RUNNING
        await hand.deliver(job.job_id)


async def test_only_the_assigned_node_can_deliver_a_result(
    hand: HandNode,
    dial: Dial,
    relay: RelayServer,
    inference: inference_pb2_grpc.InferenceServiceStub,
) -> None:
    intruder = dial(1)
    await intruder.register()
    call = inference.Dispatch(dispatch_request(hand.node_id), timeout=STEP_SECONDS)
    job = await hand.expect("job")
    await intruder.deliver(job.job_id, ciphertext=b"forged answer")
    # Half-closing after the forgery: once the intruder is gone, its result was processed.
    await intruder.call.done_writing()
    async with asyncio.timeout(STEP_SECONDS):
        await relay.registry.wait_until(lambda: len(relay.registry.all()) == 1)
    assert [j.job_id for j in relay.dispatcher.jobs()] == [job.job_id]
    await hand.deliver(job.job_id)
    assert (await call).response.ciphertext == NODE_CIPHERTEXT


@pytest.mark.parametrize("how", ["done_writing", "cancel"])
async def test_node_stream_ending_fails_dispatch_at_once_with_node_lost(
    hand: HandNode,
    relay: RelayServer,
    inference: inference_pb2_grpc.InferenceServiceStub,
    how: str,
) -> None:
    call = inference.Dispatch(dispatch_request(hand.node_id), timeout=60)
    await hand.expect("job")
    if how == "done_writing":
        await hand.call.done_writing()
    else:
        hand.call.cancel()
    error = await failed(call, within=2.0)  # far sooner than the 60 s deadline
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert from_rpc_error(error).reason_name == "NODE_LOST"
    assert relay.registry.all() == []


async def test_dispatch_deadline_exceeded_cancels_the_job_on_the_node(
    hand: HandNode, inference: inference_pb2_grpc.InferenceServiceStub
) -> None:
    call = inference.Dispatch(dispatch_request(hand.node_id), timeout=0.3)
    job = await hand.expect("job")
    error = await failed(call)
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert (await hand.expect("cancel_job")).job_id == job.job_id


async def test_caller_cancelling_dispatch_cancels_the_job_on_the_node(
    hand: HandNode, inference: inference_pb2_grpc.InferenceServiceStub
) -> None:
    call = inference.Dispatch(dispatch_request(hand.node_id), timeout=STEP_SECONDS)
    job = await hand.expect("job")
    call.cancel()
    assert (await hand.expect("cancel_job")).job_id == job.job_id
    with pytest.raises(asyncio.CancelledError):
        await call


async def test_cancel_by_request_ids_cancels_the_job_and_the_dispatch(
    hand: HandNode, inference: inference_pb2_grpc.InferenceServiceStub
) -> None:
    call = inference.Dispatch(dispatch_request(hand.node_id, "req-7"), timeout=STEP_SECONDS)
    job = await hand.expect("job")
    cancel = inference_pb2.CancelRequest(client_public_key=client_public_key(), request_id="req-7")
    assert (await inference.Cancel(cancel, timeout=STEP_SECONDS)).cancelled
    assert (await hand.expect("cancel_job")).job_id == job.job_id
    error = await failed(call)
    assert error.code() == grpc.StatusCode.CANCELLED
    assert from_rpc_error(error).reason_name == "CANCELLED"


def watch_slot_queue(pool: SlotPool, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """An event set when a Dispatch asks `pool` for a slot (it queues if none is free)."""
    asked = asyncio.Event()
    acquire = pool.acquire

    async def acquire_and_tell() -> None:
        asked.set()  # acquire() queues synchronously, before anyone sees the event
        await acquire()

    monkeypatch.setattr(pool, "acquire", acquire_and_tell)
    return asked


async def test_cancel_of_a_request_queued_for_a_slot_stops_it_before_it_runs(
    hand: HandNode,
    relay: RelayServer,
    inference: inference_pb2_grpc.InferenceServiceStub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = inference.Dispatch(dispatch_request(hand.node_id, "req-1"), timeout=STEP_SECONDS)
    job = await hand.expect("job")
    pool = relay.registry.get(hand.node_id).slot_pool
    asked = watch_slot_queue(pool, monkeypatch)
    queued = inference.Dispatch(dispatch_request(hand.node_id, "req-2"), timeout=STEP_SECONDS)
    async with asyncio.timeout(STEP_SECONDS):
        await asked.wait()
    assert pool.waiting == 1
    cancel = inference_pb2.CancelRequest(client_public_key=client_public_key(), request_id="req-2")
    assert (await inference.Cancel(cancel, timeout=STEP_SECONDS)).cancelled
    assert (await failed(queued)).code() == grpc.StatusCode.CANCELLED
    await hand.deliver(job.job_id)
    await running
    assert relay.dispatcher.jobs() == []  # req-2 never went to the node


async def test_cancel_of_an_unknown_request_reports_nothing_cancelled(
    hand: HandNode, inference: inference_pb2_grpc.InferenceServiceStub
) -> None:
    cancel = inference_pb2.CancelRequest(client_public_key=client_public_key(), request_id="nope")
    assert not (await inference.Cancel(cancel, timeout=STEP_SECONDS)).cancelled


@pytest.mark.parametrize(
    ("reason", "code", "relay_code"),
    [
        (node_pb2.FAILURE_REASON_BAD_ENVELOPE, grpc.StatusCode.INVALID_ARGUMENT, "BAD_ENVELOPE"),
        (node_pb2.FAILURE_REASON_UNKNOWN_MODEL, grpc.StatusCode.NOT_FOUND, "MODEL_NOT_FOUND"),
        (node_pb2.FAILURE_REASON_ENGINE_ERROR, grpc.StatusCode.UNAVAILABLE, "UPSTREAM_ERROR"),
        (node_pb2.FAILURE_REASON_CANCELLED, grpc.StatusCode.CANCELLED, "CANCELLED"),
        (node_pb2.FAILURE_REASON_BUSY, grpc.StatusCode.UNAVAILABLE, "NODE_BUSY"),
        (node_pb2.FAILURE_REASON_UNSPECIFIED, grpc.StatusCode.UNAVAILABLE, "UPSTREAM_ERROR"),
    ],
    ids=lambda value: node_pb2.FailureReason.Name(value) if isinstance(value, int) else None,
)
async def test_node_failure_reason_maps_to_status_and_reason(
    hand: HandNode,
    inference: inference_pb2_grpc.InferenceServiceStub,
    reason: int,
    code: grpc.StatusCode,
    relay_code: str,
) -> None:
    call = inference.Dispatch(dispatch_request(hand.node_id), timeout=STEP_SECONDS)
    job = await hand.expect("job")
    await hand.fail(job.job_id, reason, message="node says no")
    error = await failed(call)
    assert error.code() == code
    assert from_rpc_error(error).reason_name == relay_code
    assert error.details() == "node says no"


# --- connection lifecycle -----------------------------------------------------------------


async def test_second_connection_with_the_same_key_supersedes_the_first(
    dial: Dial, relay: RelayServer, inference: inference_pb2_grpc.InferenceServiceStub
) -> None:
    first, second = dial(0), dial(0)
    await first.register()
    registered = await second.register()
    assert registered.node_id == first.node_id
    assert await first.ended_with() == grpc.StatusCode.ABORTED
    assert [n.node_id for n in relay.registry.all()] == [registered.node_id]
    call = inference.Dispatch(dispatch_request(registered.node_id), timeout=STEP_SECONDS)
    await second.deliver((await second.expect("job")).job_id)
    assert (await call).node_id == registered.node_id


async def test_relay_stop_sends_drain_to_connected_nodes(
    hand: HandNode, relay: RelayServer
) -> None:
    stopping = asyncio.create_task(relay.stop(grace=3))
    try:
        assert (await hand.expect("drain")).grace_seconds == 3
    finally:
        await stopping
