"""InferenceService: the catalog, node selection and dispatch of sealed envelopes."""

from __future__ import annotations

from collections.abc import Iterable

import grpc

from tokenplace.client import convert
from tokenplace.client.dispatch_stream import DispatchStream
from tokenplace.client.metadata import Metadata
from tokenplace.client.rpc import call
from tokenplace.client.types import Dispatched, NodeAddress, ServedModel
from tokenplace.e2ee import Envelope
from tokenplace.v1 import inference_pb2, inference_pb2_grpc


class InferenceClient:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._stub = inference_pb2_grpc.InferenceServiceStub(channel)
        self.timeout_seconds = timeout_seconds
        # Dispatch goes over one multiplexed stream (see client/dispatch_stream.py).
        self._dispatches = DispatchStream(channel)

    async def close(self) -> None:
        await self._dispatches.close()

    async def list_models(self) -> list[ServedModel]:
        reply = await call(
            self._stub.ListModels,
            inference_pb2.ListModelsRequest(),
            timeout_seconds=self.timeout_seconds,
        )
        return [convert.served_model(model) for model in reply.models]

    async def select_node(
        self, model: str, exclude: Iterable[str] = (), metadata: Metadata = ()
    ) -> NodeAddress:
        """The least loaded online node serving `model`, avoiding `exclude`."""
        request = inference_pb2.SelectNodeRequest(model=model, exclude_node_ids=list(exclude))
        reply = await call(
            self._stub.SelectNode, request, timeout_seconds=self.timeout_seconds, metadata=metadata
        )
        return NodeAddress(reply.node_id, reply.public_key)

    async def dispatch(
        self,
        node: NodeAddress | str,
        model: str,
        client_public_key: str,
        request_id: str,
        envelope: Envelope,
        timeout_seconds: float,
        metadata: Metadata = (),
    ) -> Dispatched:
        """Send a sealed envelope to a node, by address or (a str) by its public key alone;
        wait up to `timeout_seconds` for its sealed answer."""
        request = inference_pb2.DispatchRequest(
            model=model, envelope=convert.envelope_pb(client_public_key, request_id, envelope)
        )
        if isinstance(node, NodeAddress):
            request.node_id = node.node_id
        else:
            request.server_public_key = node
        reply = await self._dispatches.dispatch(request, timeout_seconds, metadata)
        return convert.dispatched(reply)

    async def cancel(self, client_public_key: str, request_id: str) -> bool:
        request = inference_pb2.CancelRequest(
            client_public_key=client_public_key, request_id=request_id
        )
        reply = await call(self._stub.Cancel, request, timeout_seconds=self.timeout_seconds)
        return reply.cancelled
