"""The gateway's gRPC client for the relay's InferenceService.

Converts protobuf at this edge: callers see plain dataclasses and APIError.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc

from tokenplace.e2ee import Envelope
from tokenplace.gateway.dispatch_stream import DispatchStream
from tokenplace.gateway.errors import from_rpc_error
from tokenplace.v1 import common_pb2, inference_pb2, inference_pb2_grpc

T = TypeVar("T")
Metadata = Sequence[tuple[str, str]]


async def call(rpc: Callable[..., Awaitable[T]], request: Any, **kwargs: Any) -> T:
    """Invoke a relay RPC; a failed call becomes the matching APIError."""
    try:
        return await rpc(request, **kwargs)
    except grpc.aio.AioRpcError as error:
        raise from_rpc_error(error) from None


@dataclass(frozen=True, slots=True)
class CatalogModel:
    id: str
    owned_by: str
    created: int
    node_count: int


@dataclass(frozen=True, slots=True)
class SelectedNode:
    node_id: str
    public_key: str


@dataclass(frozen=True, slots=True)
class Dispatched:
    node_id: str
    response: Envelope
    prompt_tokens: int
    completion_tokens: int
    next_node: SelectedNode | None


class RelayClient:
    def __init__(self, address: str, control_timeout_seconds: float) -> None:
        self.address = address
        self.control_timeout_seconds = control_timeout_seconds
        self._channel = grpc.aio.insecure_channel(
            address,
            options=[
                ("grpc.max_receive_message_length", 16 * 1024 * 1024),
                ("grpc.max_send_message_length", 16 * 1024 * 1024),
            ],
        )
        self._stub = inference_pb2_grpc.InferenceServiceStub(self._channel)
        # Dispatch goes over one multiplexed stream (see gateway/dispatch_stream.py).
        self._dispatches = DispatchStream(self._channel)

    @property
    def channel(self) -> grpc.aio.Channel:
        """The shared channel, for clients of the relay's other services."""
        return self._channel

    async def close(self) -> None:
        await self._dispatches.close()
        await self._channel.close()

    async def list_models(self) -> list[CatalogModel]:
        reply = await call(
            self._stub.ListModels,
            inference_pb2.ListModelsRequest(),
            timeout=self.control_timeout_seconds,
        )
        return [
            CatalogModel(m.card.id, m.card.owned_by, m.card.created, m.node_count)
            for m in reply.models
        ]

    async def select_node(
        self, model: str, exclude: Iterable[str] = (), metadata: Metadata = ()
    ) -> SelectedNode:
        request = inference_pb2.SelectNodeRequest(model=model, exclude_node_ids=list(exclude))
        reply = await call(
            self._stub.SelectNode,
            request,
            timeout=self.control_timeout_seconds,
            metadata=metadata,
        )
        return SelectedNode(reply.node_id, reply.public_key)

    async def dispatch(
        self,
        node_id: str,
        model: str,
        client_public_key: str,
        request_id: str,
        envelope: Envelope,
        timeout_seconds: float,
        server_public_key: str = "",
        metadata: Metadata = (),
    ) -> Dispatched:
        """Send a sealed envelope to a node (by id, or by key when node_id is empty)."""
        request = inference_pb2.DispatchRequest(
            node_id=node_id,
            model=model,
            server_public_key=server_public_key,
            envelope=common_pb2.Envelope(
                client_public_key=client_public_key,
                request_id=request_id,
                ciphertext=envelope.ciphertext,
                cipherkey=envelope.cipherkey,
                iv=envelope.iv,
            ),
        )
        reply = await self._dispatches.dispatch(request, timeout_seconds, metadata)
        sealed = reply.response
        return Dispatched(
            node_id=reply.node_id,
            response=Envelope(sealed.ciphertext, sealed.cipherkey, sealed.iv),
            prompt_tokens=reply.usage.prompt_tokens,
            completion_tokens=reply.usage.completion_tokens,
            next_node=(
                SelectedNode(reply.next_node.node_id, reply.next_node.public_key)
                if reply.HasField("next_node")
                else None
            ),
        )
