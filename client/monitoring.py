"""MonitoringService: the network's nodes, relays, counts and live events.

A relay that cannot be reached (or does not serve monitoring) raises
`RelayUnreachable`: LocalAI's P2P API answers "P2P subsystem not available" then, and
`tokenplace status` says it cannot reach the relay.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from tokenplace.client import convert
from tokenplace.client.errors import RelayCallError, RelayUnreachable, from_rpc_error
from tokenplace.client.metadata import Metadata, operator_metadata
from tokenplace.client.rpc import call
from tokenplace.client.types import ClusterStats, MonitoringEvent, NodeStatus, RelayStatus
from tokenplace.v1 import monitoring_pb2, monitoring_pb2_grpc

T = TypeVar("T")
# Without a reason from the relay, these mean the relay (or its monitoring) is not there.
UNREACHABLE_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNIMPLEMENTED}
)


class MonitoringClient:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float, address: str) -> None:
        self._stub = monitoring_pb2_grpc.MonitoringServiceStub(channel)
        self.timeout_seconds = timeout_seconds
        self.address = address

    async def list_nodes(self) -> list[NodeStatus]:
        reply = await self._call(self._stub.ListNodes, monitoring_pb2.ListNodesRequest())
        return [convert.node_status(node) for node in reply.nodes]

    async def list_relays(self) -> list[RelayStatus]:
        reply = await self._call(self._stub.ListRelays, monitoring_pb2.ListRelaysRequest())
        return [convert.relay_status(relay) for relay in reply.relays]

    async def cluster_stats(self) -> ClusterStats:
        request = monitoring_pb2.GetClusterStatsRequest()
        reply = await self._call(self._stub.GetClusterStats, request)
        return convert.cluster_stats(reply.stats)

    async def join_token(self, operator_token: str) -> str:
        """Operator-gated; JOIN_TOKEN_NOT_CONFIGURED when nodes join without a token."""
        request = monitoring_pb2.GetJoinTokenRequest()
        reply = await self._call(
            self._stub.GetJoinToken, request, operator_metadata(operator_token)
        )
        return reply.join_token

    async def watch_events(self) -> AsyncIterator[MonitoringEvent]:
        """The live event stream, until the relay ends it (no deadline)."""
        stream = self._stub.WatchEvents(monitoring_pb2.WatchEventsRequest())
        try:
            async for reply in stream:
                yield convert.monitoring_event(reply.event)
        except grpc.aio.AioRpcError as error:
            raise self._error(error) from None
        finally:
            stream.cancel()

    async def _call(
        self, rpc: Callable[..., Awaitable[T]], request: Message, metadata: Metadata = ()
    ) -> T:
        try:
            return await call(rpc, request, timeout_seconds=self.timeout_seconds, metadata=metadata)
        except RelayCallError as failure:
            raise self._unreachable_or(failure) from None

    def _error(self, error: grpc.aio.AioRpcError) -> RelayCallError:
        return self._unreachable_or(from_rpc_error(error))

    def _unreachable_or(self, failure: RelayCallError) -> RelayCallError:
        """RelayUnreachable for a failure with no reason that means the relay is not there."""
        if failure.code in UNREACHABLE_CODES and not failure.reason:
            return RelayUnreachable(
                self.address, failure.code, failure.message or failure.code.name
            )
        return failure
