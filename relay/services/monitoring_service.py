"""MonitoringService: read-only views of nodes, relays and the event stream.

Never carries content: events and views hold ids, model names, counts and timings.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import grpc

from tokenplace.common.timestamps import to_duration
from tokenplace.relay.join_token import JoinGate
from tokenplace.relay.monitoring.directory import NodeDirectory, RelayIdentity
from tokenplace.relay.monitoring.events import EventBus, Stamped
from tokenplace.relay.operator_auth import OperatorAuth
from tokenplace.relay.services import convert
from tokenplace.relay.services.status import translate_errors
from tokenplace.v1 import monitoring_pb2, monitoring_pb2_grpc


class MonitoringServicer(monitoring_pb2_grpc.MonitoringServiceServicer):
    def __init__(
        self,
        directory: NodeDirectory,
        events: EventBus,
        relay: RelayIdentity,
        auth: OperatorAuth,
        join_gate: JoinGate,
    ) -> None:
        self.directory = directory
        self.events = events
        self.relay = relay
        self.auth = auth
        self.join_gate = join_gate
        self._closing = asyncio.Event()

    def close(self) -> None:
        """End every WatchEvents stream with OK (the relay is stopping)."""
        self._closing.set()

    @property
    def _window(self) -> float:
        return self.directory.registry.node_timeout_seconds

    @translate_errors
    async def ListNodes(
        self,
        request: monitoring_pb2.ListNodesRequest,
        context: grpc.aio.ServicerContext[
            monitoring_pb2.ListNodesRequest, monitoring_pb2.ListNodesResponse
        ],
    ) -> monitoring_pb2.ListNodesResponse:
        return monitoring_pb2.ListNodesResponse(
            nodes=[convert.node_to_pb(node) for node in self.directory.nodes()],
            online_window=to_duration(self._window),
        )

    @translate_errors
    async def ListRelays(
        self,
        request: monitoring_pb2.ListRelaysRequest,
        context: grpc.aio.ServicerContext[
            monitoring_pb2.ListRelaysRequest, monitoring_pb2.ListRelaysResponse
        ],
    ) -> monitoring_pb2.ListRelaysResponse:
        return monitoring_pb2.ListRelaysResponse(
            relays=[convert.relay_to_pb(self.relay, time.time())]
        )

    @translate_errors
    async def GetClusterStats(
        self,
        request: monitoring_pb2.GetClusterStatsRequest,
        context: grpc.aio.ServicerContext[
            monitoring_pb2.GetClusterStatsRequest, monitoring_pb2.GetClusterStatsResponse
        ],
    ) -> monitoring_pb2.GetClusterStatsResponse:
        stats = convert.cluster_to_pb(self.directory.cluster(), 1, 1, self._window)
        return monitoring_pb2.GetClusterStatsResponse(stats=stats)

    @translate_errors
    async def GetJoinToken(
        self,
        request: monitoring_pb2.GetJoinTokenRequest,
        context: grpc.aio.ServicerContext[
            monitoring_pb2.GetJoinTokenRequest, monitoring_pb2.GetJoinTokenResponse
        ],
    ) -> monitoring_pb2.GetJoinTokenResponse:
        self.auth.require(context)
        return monitoring_pb2.GetJoinTokenResponse(join_token=self.join_gate.reveal())

    async def WatchEvents(
        self,
        request: monitoring_pb2.WatchEventsRequest,
        context: grpc.aio.ServicerContext[
            monitoring_pb2.WatchEventsRequest, monitoring_pb2.WatchEventsResponse
        ],
    ) -> AsyncIterator[monitoring_pb2.WatchEventsResponse]:
        """Every event from the moment the response headers are sent.

        A client that awaits the call's initial metadata knows it is subscribed, so
        nothing it triggers afterwards can be missed. A subscriber too slow to keep
        up loses events rather than slowing the relay (see EventBus).
        """
        if self._closing.is_set():
            return
        with self.events.subscribe() as subscription:
            await context.send_initial_metadata(())
            closing = asyncio.ensure_future(self._closing.wait())
            following: asyncio.Future[Stamped] | None = None
            try:
                while True:
                    following = asyncio.ensure_future(subscription.next())
                    await asyncio.wait({following, closing}, return_when=asyncio.FIRST_COMPLETED)
                    if not following.done():
                        return
                    event = convert.event_to_pb(following.result())
                    yield monitoring_pb2.WatchEventsResponse(event=event)
            finally:
                closing.cancel()
                if following is not None:
                    following.cancel()
