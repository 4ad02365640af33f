"""PollingNodeService: compute nodes that reach the relay over HTTP, through a gateway."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import grpc

from tokenplace.client import convert
from tokenplace.client.rpc import call
from tokenplace.client.types import ModelCard, PolledJob, PollingRegistration
from tokenplace.e2ee import Envelope
from tokenplace.v1 import common_pb2, polling_pb2, polling_pb2_grpc

# The longest wait a poll may ask for; its deadline is this plus the usual timeout.
MAX_POLL_WAIT_SECONDS = 60


class PollingClient:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._stub = polling_pb2_grpc.PollingNodeServiceStub(channel)
        self.timeout_seconds = timeout_seconds

    async def register(
        self,
        public_key: str,
        models: Sequence[ModelCard],
        slots: int,
        inventory: Mapping[str, Any],
        display_name: str,
        credential: str = "",
        join_token: str = "",
    ) -> PollingRegistration:
        """Register (no credential) or renew the lease (with the credential)."""
        request = polling_pb2.RegisterPollingNodeRequest(
            public_key=public_key,
            models=[convert.model_card_pb(card) for card in models],
            slots=slots,
            inventory=common_pb2.NodeInventory(**inventory),
            display_name=display_name,
            credential=credential,
            join_token=join_token,
        )
        reply = await call(
            self._stub.RegisterPollingNode, request, timeout_seconds=self.timeout_seconds
        )
        return convert.polling_registration(reply)

    async def unregister(self, public_key: str, credential: str) -> bool:
        request = polling_pb2.UnregisterPollingNodeRequest(
            public_key=public_key, credential=credential
        )
        reply = await call(
            self._stub.UnregisterPollingNode, request, timeout_seconds=self.timeout_seconds
        )
        return reply.removed

    async def poll(
        self, public_key: str, credential: str, wait_seconds: int | None
    ) -> tuple[PolledJob | None, list[str], int]:
        """Wait up to `wait_seconds` (None: the relay's default) for the node's next job.

        Returns the job (or None), the ids of its jobs cancelled since, and the lease."""
        request = polling_pb2.PollJobRequest(public_key=public_key, credential=credential)
        if wait_seconds is not None:
            request.wait_seconds = wait_seconds
        wait = MAX_POLL_WAIT_SECONDS if wait_seconds is None else wait_seconds
        reply = await call(self._stub.PollJob, request, timeout_seconds=self.timeout_seconds + wait)
        job = convert.polled_job(reply.job) if reply.HasField("job") else None
        return job, list(reply.cancelled_job_ids), reply.lease_seconds

    async def submit_result(
        self,
        public_key: str,
        credential: str,
        job_id: str,
        usage: tuple[int, int],
        response: Envelope | None = None,
        failure: str | None = None,
    ) -> bool:
        """Deliver a job's sealed answer, or its failure ("engine_error", ...); usage is
        (prompt_tokens, completion_tokens). False when no such job runs on this node."""
        result = convert.job_result_pb(job_id, *usage, response, failure)
        request = polling_pb2.SubmitJobResultRequest(
            public_key=public_key, credential=credential, result=result
        )
        reply = await call(
            self._stub.SubmitJobResult, request, timeout_seconds=self.timeout_seconds
        )
        return reply.accepted
