"""InferenceService: the gateways' API onto the registry and dispatcher."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from tokenplace.client.metadata import ReceivedMetadata
from tokenplace.relay.accounts.admission import caller_from_metadata
from tokenplace.relay.accounts.metered import MeteredDispatch
from tokenplace.relay.dispatcher import Dispatcher
from tokenplace.relay.errors import RelayError
from tokenplace.relay.registry import Registry
from tokenplace.relay.services import convert
from tokenplace.relay.services.dispatch_stream import DispatchStreamSession
from tokenplace.relay.services.status import translate_errors
from tokenplace.v1 import common_pb2, inference_pb2, inference_pb2_grpc


class InferenceServicer(inference_pb2_grpc.InferenceServiceServicer):
    def __init__(
        self,
        registry: Registry,
        dispatcher: Dispatcher,
        metered: MeteredDispatch,
        default_reserve: int,
    ) -> None:
        self.registry = registry
        self.dispatcher = dispatcher
        self.metered = metered
        self.default_reserve = default_reserve

    @translate_errors
    async def ListModels(
        self,
        request: inference_pb2.ListModelsRequest,
        context: grpc.aio.ServicerContext[
            inference_pb2.ListModelsRequest, inference_pb2.ListModelsResponse
        ],
    ) -> inference_pb2.ListModelsResponse:
        served = [
            inference_pb2.ServedModel(
                card=convert.model_to_pb(card),
                node_count=len(nodes),
                free_slots=sum(node.slot_pool.free for node in nodes),
            )
            for card, nodes in self.registry.catalog().values()
        ]
        served.sort(key=lambda model: model.card.id)
        return inference_pb2.ListModelsResponse(models=served)

    @translate_errors
    async def SelectNode(
        self,
        request: inference_pb2.SelectNodeRequest,
        context: grpc.aio.ServicerContext[
            inference_pb2.SelectNodeRequest, inference_pb2.SelectNodeResponse
        ],
    ) -> inference_pb2.SelectNodeResponse:
        node = self.registry.select(request.model, exclude=request.exclude_node_ids)
        return inference_pb2.SelectNodeResponse(node_id=node.node_id, public_key=node.public_key)

    @translate_errors
    async def Dispatch(
        self,
        request: inference_pb2.DispatchRequest,
        context: grpc.aio.ServicerContext[
            inference_pb2.DispatchRequest, inference_pb2.DispatchResponse
        ],
    ) -> inference_pb2.DispatchResponse:
        return await self.dispatch(request, context.invocation_metadata(), context.time_remaining())

    # grpc.aio lets a streaming handler read and write through its context and return
    # None; mypy-protobuf's servicer stub knows only the iterator style.
    async def DispatchStream(  # type: ignore[override]
        self,
        request_iterator: AsyncIterator[inference_pb2.DispatchStreamRequest],
        context: grpc.aio.ServicerContext[
            inference_pb2.DispatchStreamRequest, inference_pb2.DispatchStreamResponse
        ],
    ) -> None:
        await DispatchStreamSession(self.dispatch).serve(context)

    async def dispatch(
        self,
        request: inference_pb2.DispatchRequest,
        metadata: ReceivedMetadata | None,
        time_remaining: float | None,
    ) -> inference_pb2.DispatchResponse:
        """One dispatch, unary or streamed: admit, run on a node, answer with a hint."""
        caller = caller_from_metadata(metadata, self.default_reserve)
        sealed = convert.sealed_from_pb(request.envelope)
        ticket = await self.metered.admit(caller, sealed.request_id)
        node_id = request.node_id
        if not node_id and request.server_public_key:
            try:
                node_id = self.registry.by_public_key(request.server_public_key).node_id
            except RelayError as error:
                await ticket.release(request.model, "", error.reason_code)
                raise
        outcome = await self.metered.run(ticket, node_id, request.model, sealed, time_remaining)
        reply = inference_pb2.DispatchResponse(
            response=convert.sealed_to_pb(outcome.response),
            usage=common_pb2.Usage(
                prompt_tokens=outcome.prompt_tokens,
                completion_tokens=outcome.completion_tokens,
            ),
            node_id=outcome.node_id,
        )
        hint = self.registry.peek(request.model)
        if hint is not None:
            reply.next_node.node_id = hint.node_id
            reply.next_node.public_key = hint.public_key
        return reply

    @translate_errors
    async def Cancel(
        self,
        request: inference_pb2.CancelRequest,
        context: grpc.aio.ServicerContext[
            inference_pb2.CancelRequest, inference_pb2.CancelResponse
        ],
    ) -> inference_pb2.CancelResponse:
        cancelled = self.dispatcher.cancel(request.client_public_key, request.request_id)
        return inference_pb2.CancelResponse(cancelled=cancelled)
