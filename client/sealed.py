"""SealedRequestService: relay-blind sealed requests, queued, retrieved and cancelled."""

from __future__ import annotations

import grpc

from tokenplace.client import convert
from tokenplace.client.metadata import Metadata
from tokenplace.client.rpc import call
from tokenplace.client.types import SealedState
from tokenplace.e2ee import Envelope
from tokenplace.v1 import sealed_pb2, sealed_pb2_grpc


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
        request = sealed_pb2.SubmitSealedRequest(
            server_public_key=server_public_key,
            envelope=convert.envelope_pb(client_public_key, request_id, envelope),
            cancel_token=cancel_token,
        )
        reply = await call(
            self._stub.SubmitSealed,
            request,
            timeout_seconds=self.timeout_seconds,
            metadata=metadata,
        )
        return convert.submitted(reply)

    async def retrieve(self, client_public_key: str, request_id: str) -> SealedState:
        request = sealed_pb2.RetrieveSealedRequest(
            client_public_key=client_public_key, request_id=request_id
        )
        reply = await call(self._stub.RetrieveSealed, request, timeout_seconds=self.timeout_seconds)
        return convert.retrieved(reply)

    async def cancel(
        self, client_public_key: str, request_id: str, cancel_token: str
    ) -> SealedState:
        request = sealed_pb2.CancelSealedRequest(
            client_public_key=client_public_key, request_id=request_id, cancel_token=cancel_token
        )
        reply = await call(self._stub.CancelSealed, request, timeout_seconds=self.timeout_seconds)
        return convert.cancelled(reply)
