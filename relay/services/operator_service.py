"""OperatorService: privileged actions, gated by the operator token in metadata."""

from __future__ import annotations

import grpc

from tokenplace.relay.dispatcher import Dispatcher
from tokenplace.relay.errors import NodeNotFound
from tokenplace.relay.operator_auth import OperatorAuth
from tokenplace.relay.registry import CloseOrder, Registry
from tokenplace.relay.services.status import translate_errors
from tokenplace.v1 import operator_pb2, operator_pb2_grpc


class OperatorServicer(operator_pb2_grpc.OperatorServiceServicer):
    def __init__(self, auth: OperatorAuth, registry: Registry, dispatcher: Dispatcher) -> None:
        self.auth = auth
        self.registry = registry
        self.dispatcher = dispatcher

    @translate_errors
    async def CheckOperator(
        self,
        request: operator_pb2.CheckOperatorRequest,
        context: grpc.aio.ServicerContext[
            operator_pb2.CheckOperatorRequest, operator_pb2.CheckOperatorResponse
        ],
    ) -> operator_pb2.CheckOperatorResponse:
        self.auth.require(context)
        return operator_pb2.CheckOperatorResponse()

    @translate_errors
    async def RemoveNode(
        self,
        request: operator_pb2.RemoveNodeRequest,
        context: grpc.aio.ServicerContext[
            operator_pb2.RemoveNodeRequest, operator_pb2.RemoveNodeResponse
        ],
    ) -> operator_pb2.RemoveNodeResponse:
        self.auth.require(context)
        try:
            session = self.registry.by_public_key(request.server_public_key)
        except NodeNotFound:
            return operator_pb2.RemoveNodeResponse(removed=False)
        session.send(CloseOrder("removed by the relay operator", removed=True))
        self.registry.remove(session, "removed")
        self.dispatcher.on_node_lost(session)
        return operator_pb2.RemoveNodeResponse(removed=True)
