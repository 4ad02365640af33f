"""OperatorService: checks of the operator token, removal of compute nodes."""

from __future__ import annotations

import grpc

from tokenplace.client.metadata import operator_metadata
from tokenplace.client.rpc import call
from tokenplace.v1 import operator_pb2, operator_pb2_grpc


class OperatorClient:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._stub = operator_pb2_grpc.OperatorServiceStub(channel)
        self.timeout_seconds = timeout_seconds

    async def check(self, token: str) -> None:
        """Raises RelayCallError unless `token` is the relay's operator token."""
        await call(
            self._stub.CheckOperator,
            operator_pb2.CheckOperatorRequest(),
            metadata=operator_metadata(token),
            timeout_seconds=self.timeout_seconds,
        )

    async def remove_node(self, token: str, server_public_key: str) -> bool:
        reply = await call(
            self._stub.RemoveNode,
            operator_pb2.RemoveNodeRequest(server_public_key=server_public_key),
            metadata=operator_metadata(token),
            timeout_seconds=self.timeout_seconds,
        )
        return reply.removed
