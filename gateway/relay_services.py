"""Clients for the relay's sealed-request, polling-node and operator services.

Protobuf stops here: callers get dataclasses, Envelopes and APIError.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from tokenplace.e2ee import Envelope
from tokenplace.gateway.operator import operator_metadata
from tokenplace.gateway.relay_client import Metadata, call
from tokenplace.v1 import (
    common_pb2,
    node_pb2,
    operator_pb2,
    operator_pb2_grpc,
    polling_pb2,
    polling_pb2_grpc,
    sealed_pb2,
    sealed_pb2_grpc,
)

MAX_POLL_WAIT_SECONDS = 60
STATES = {
    sealed_pb2.REQUEST_STATE_QUEUED: "queued",
    sealed_pb2.REQUEST_STATE_RUNNING: "running",
    sealed_pb2.REQUEST_STATE_COMPLETED: "completed",
    sealed_pb2.REQUEST_STATE_CANCELLED: "cancelled",
    sealed_pb2.REQUEST_STATE_EXPIRED: "expired",
    sealed_pb2.REQUEST_STATE_LOST: "lost",
}


def envelope_pb(client_public_key: str, request_id: str, env: Envelope) -> common_pb2.Envelope:
    return common_pb2.Envelope(
        client_public_key=client_public_key,
        request_id=request_id,
        ciphertext=env.ciphertext,
        cipherkey=env.cipherkey,
        iv=env.iv,
    )


@dataclass(frozen=True, slots=True)
class SealedState:
    request_id: str
    state: str
    reason: str = ""
    response: Envelope | None = None
    duplicate: bool = False


class SealedClient:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._stub = sealed_pb2_grpc.SealedRequestServiceStub(channel)
        self.timeout_seconds = timeout_seconds

    async def submit(
        self,
        server_public_key: str,
        client_public_key: str,
        request_id: str,
        envelope: Envelope,
        cancel_token: str,
        metadata: Metadata = (),
    ) -> SealedState:
        reply = await call(
            self._stub.SubmitSealed,
            sealed_pb2.SubmitSealedRequest(
                server_public_key=server_public_key,
                envelope=envelope_pb(client_public_key, request_id, envelope),
                cancel_token=cancel_token,
            ),
            timeout=self.timeout_seconds,
            metadata=metadata,
        )
        return SealedState(reply.request_id, STATES[reply.state], duplicate=reply.duplicate)

    async def retrieve(self, client_public_key: str, request_id: str) -> SealedState:
        reply = await call(
            self._stub.RetrieveSealed,
            sealed_pb2.RetrieveSealedRequest(
                client_public_key=client_public_key,
                request_id=request_id,
            ),
            timeout=self.timeout_seconds,
        )
        response = None
        if reply.HasField("response"):
            sealed = reply.response
            response = Envelope(sealed.ciphertext, sealed.cipherkey, sealed.iv)
        return SealedState(reply.request_id, STATES[reply.state], reply.reason, response)

    async def cancel(
        self, client_public_key: str, request_id: str, cancel_token: str
    ) -> SealedState:
        reply = await call(
            self._stub.CancelSealed,
            sealed_pb2.CancelSealedRequest(
                client_public_key=client_public_key,
                request_id=request_id,
                cancel_token=cancel_token,
            ),
            timeout=self.timeout_seconds,
        )
        return SealedState(reply.request_id, STATES[reply.state])


class OperatorClient:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._stub = operator_pb2_grpc.OperatorServiceStub(channel)
        self.timeout_seconds = timeout_seconds

    async def check(self, token: str) -> None:
        await call(
            self._stub.CheckOperator,
            operator_pb2.CheckOperatorRequest(),
            metadata=operator_metadata(token),
            timeout=self.timeout_seconds,
        )

    async def remove_node(self, token: str, server_public_key: str) -> bool:
        reply = await call(
            self._stub.RemoveNode,
            operator_pb2.RemoveNodeRequest(server_public_key=server_public_key),
            metadata=operator_metadata(token),
            timeout=self.timeout_seconds,
        )
        return reply.removed


@dataclass(frozen=True, slots=True)
class PolledJob:
    job_id: str
    model: str
    client_public_key: str
    request_id: str
    envelope: Envelope
    deadline_unix: float


class PollingClient:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._stub = polling_pb2_grpc.PollingNodeServiceStub(channel)
        self.timeout_seconds = timeout_seconds

    async def register(
        self, request: polling_pb2.RegisterPollingNodeRequest
    ) -> polling_pb2.RegisterPollingNodeResponse:
        return await call(self._stub.RegisterPollingNode, request, timeout=self.timeout_seconds)

    async def unregister(self, public_key: str, credential: str) -> bool:
        reply = await call(
            self._stub.UnregisterPollingNode,
            polling_pb2.UnregisterPollingNodeRequest(public_key=public_key, credential=credential),
            timeout=self.timeout_seconds,
        )
        return reply.removed

    async def poll(
        self, public_key: str, credential: str, wait_seconds: int | None
    ) -> tuple[PolledJob | None, list[str], int]:
        """Wait up to `wait_seconds` (None: the relay's default) for the node's next job."""
        request = polling_pb2.PollJobRequest(public_key=public_key, credential=credential)
        if wait_seconds is not None:
            request.wait_seconds = wait_seconds
        budget = self.timeout_seconds + (
            MAX_POLL_WAIT_SECONDS if wait_seconds is None else wait_seconds
        )
        reply = await call(self._stub.PollJob, request, timeout=budget)
        job = _polled(reply.job) if reply.HasField("job") else None
        return job, list(reply.cancelled_job_ids), reply.lease_seconds

    async def submit_result(
        self, public_key: str, credential: str, result: node_pb2.JobResult
    ) -> bool:
        reply = await call(
            self._stub.SubmitJobResult,
            polling_pb2.SubmitJobResultRequest(
                public_key=public_key,
                credential=credential,
                result=result,
            ),
            timeout=self.timeout_seconds,
        )
        return reply.accepted


def _polled(job: node_pb2.Job) -> PolledJob:
    sealed = job.envelope
    return PolledJob(
        job_id=job.job_id,
        model=job.model,
        client_public_key=sealed.client_public_key,
        request_id=sealed.request_id,
        envelope=Envelope(sealed.ciphertext, sealed.cipherkey, sealed.iv),
        deadline_unix=job.deadline.ToNanoseconds() / 1e9,
    )
