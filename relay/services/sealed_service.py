"""SealedRequestService: relay-blind submit / retrieve / cancel."""

from __future__ import annotations

import grpc

from tokenplace.relay.accounts.admission import caller_from_metadata
from tokenplace.relay.errors import RelayError
from tokenplace.relay.sealed import SealedRequests
from tokenplace.relay.services import convert
from tokenplace.relay.services.status import translate_errors
from tokenplace.v1 import sealed_pb2, sealed_pb2_grpc


class SealedRequestServicer(sealed_pb2_grpc.SealedRequestServiceServicer):
    def __init__(self, sealed: SealedRequests, default_reserve: int) -> None:
        self.sealed = sealed
        self.default_reserve = default_reserve

    @translate_errors
    async def SubmitSealed(
        self,
        request: sealed_pb2.SubmitSealedRequest,
        context: grpc.aio.ServicerContext[
            sealed_pb2.SubmitSealedRequest, sealed_pb2.SubmitSealedResponse
        ],
    ) -> sealed_pb2.SubmitSealedResponse:
        envelope = convert.sealed_from_pb(request.envelope)
        caller = caller_from_metadata(context.invocation_metadata(), self.default_reserve)
        ticket = await self.sealed.metered.admit(caller, envelope.request_id)
        try:
            entry, duplicate = self.sealed.submit(
                request.server_public_key, envelope, request.cancel_token, ticket
            )
        except RelayError as error:
            await ticket.release("", "", error.reason_code)
            raise
        if duplicate:
            await ticket.release("", entry.node_id, "duplicate")
        return sealed_pb2.SubmitSealedResponse(
            request_id=entry.request_id,
            state=convert.SEALED_STATES[entry.state],
            duplicate=duplicate,
        )

    @translate_errors
    async def RetrieveSealed(
        self,
        request: sealed_pb2.RetrieveSealedRequest,
        context: grpc.aio.ServicerContext[
            sealed_pb2.RetrieveSealedRequest, sealed_pb2.RetrieveSealedResponse
        ],
    ) -> sealed_pb2.RetrieveSealedResponse:
        return convert.sealed_entry_to_pb(
            self.sealed.retrieve(request.client_public_key, request.request_id)
        )

    @translate_errors
    async def CancelSealed(
        self,
        request: sealed_pb2.CancelSealedRequest,
        context: grpc.aio.ServicerContext[
            sealed_pb2.CancelSealedRequest, sealed_pb2.CancelSealedResponse
        ],
    ) -> sealed_pb2.CancelSealedResponse:
        entry = self.sealed.cancel(
            request.client_public_key, request.request_id, request.cancel_token
        )
        return sealed_pb2.CancelSealedResponse(
            request_id=entry.request_id, state=convert.SEALED_STATES[entry.state]
        )
