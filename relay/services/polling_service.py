"""PollingNodeService: the HTTP compute-node control plane, onto the same registry."""

from __future__ import annotations

import grpc

from tokenplace.relay.polling import PollingNodes, PollingRegistration
from tokenplace.relay.services import convert
from tokenplace.relay.services.status import translate_errors
from tokenplace.v1 import polling_pb2, polling_pb2_grpc


class PollingNodeServicer(polling_pb2_grpc.PollingNodeServiceServicer):
    def __init__(self, nodes: PollingNodes, poll_wait_seconds: int) -> None:
        self.nodes = nodes
        self.poll_wait_seconds = poll_wait_seconds

    @translate_errors
    async def RegisterPollingNode(
        self,
        request: polling_pb2.RegisterPollingNodeRequest,
        context: grpc.aio.ServicerContext[
            polling_pb2.RegisterPollingNodeRequest, polling_pb2.RegisterPollingNodeResponse
        ],
    ) -> polling_pb2.RegisterPollingNodeResponse:
        registration = PollingRegistration(
            public_key=request.public_key,
            models=[convert.model_from_pb(card) for card in request.models],
            slots=request.slots,
            inventory=convert.inventory_from_pb(request.inventory),
            display_name=request.display_name,
            peer=context.peer(),
            join_token=request.join_token,
        )
        session, sealed = self.nodes.register(registration, request.credential)
        reply = polling_pb2.RegisterPollingNodeResponse(
            node_id=session.node_id,
            lease_seconds=self.nodes.lease_seconds,
            poll_wait_seconds=self.poll_wait_seconds,
        )
        if sealed is not None:
            reply.sealed_credential.CopyFrom(convert.envelope_to_pb(sealed))
        return reply

    @translate_errors
    async def UnregisterPollingNode(
        self,
        request: polling_pb2.UnregisterPollingNodeRequest,
        context: grpc.aio.ServicerContext[
            polling_pb2.UnregisterPollingNodeRequest, polling_pb2.UnregisterPollingNodeResponse
        ],
    ) -> polling_pb2.UnregisterPollingNodeResponse:
        removed = self.nodes.unregister(request.public_key, request.credential)
        return polling_pb2.UnregisterPollingNodeResponse(removed=removed)

    @translate_errors
    async def PollJob(
        self,
        request: polling_pb2.PollJobRequest,
        context: grpc.aio.ServicerContext[polling_pb2.PollJobRequest, polling_pb2.PollJobResponse],
    ) -> polling_pb2.PollJobResponse:
        session = self.nodes.authenticate(request.public_key, request.credential)
        asked = request.wait_seconds if request.HasField("wait_seconds") else None
        wait: float = min(
            self.poll_wait_seconds if asked is None else asked, self.poll_wait_seconds
        )
        remaining = context.time_remaining()
        if remaining is not None:
            wait = min(wait, max(remaining - 0.5, 0))
        result = await self.nodes.poll(session, wait)
        reply = polling_pb2.PollJobResponse(
            cancelled_job_ids=result.cancelled_job_ids, lease_seconds=self.nodes.lease_seconds
        )
        if result.job is not None:
            reply.job.CopyFrom(convert.job_to_pb(result.job))
        return reply

    @translate_errors
    async def SubmitJobResult(
        self,
        request: polling_pb2.SubmitJobResultRequest,
        context: grpc.aio.ServicerContext[
            polling_pb2.SubmitJobResultRequest, polling_pb2.SubmitJobResultResponse
        ],
    ) -> polling_pb2.SubmitJobResultResponse:
        session = self.nodes.authenticate(request.public_key, request.credential)
        outcome = convert.result_from_pb(session.node_id, request.result)
        accepted = self.nodes.submit_result(session, request.result.job_id, outcome)
        return polling_pb2.SubmitJobResultResponse(accepted=accepted)
