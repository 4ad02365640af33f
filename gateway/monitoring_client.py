"""The gRPC client for the relay's MonitoringService, shared by the gateway and `tokenplace status`.

Converts protobuf at this edge: callers see plain dataclasses and APIError. A relay
that cannot be reached (or does not serve monitoring) is `RelayUnreachable`, a 500:
the LocalAI P2P API answers "P2P subsystem not available" with that status.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf import json_format, timestamp_pb2

from tokenplace.gateway.errors import APIError, from_rpc_error, relay_error_info
from tokenplace.gateway.operator import operator_metadata
from tokenplace.v1 import monitoring_pb2, monitoring_pb2_grpc

# Without an ErrorInfo from the relay, these mean the relay (or its monitoring) is not there.
UNREACHABLE_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)
OUTCOMES = {
    monitoring_pb2.JOB_OUTCOME_KIND_COMPLETED: "completed",
    monitoring_pb2.JOB_OUTCOME_KIND_FAILED: "failed",
    monitoring_pb2.JOB_OUTCOME_KIND_CANCELLED: "cancelled",
    monitoring_pb2.JOB_OUTCOME_KIND_NODE_LOST: "node_lost",
    monitoring_pb2.JOB_OUTCOME_KIND_DEADLINE_EXCEEDED: "deadline_exceeded",
}


class RelayUnreachable(APIError):
    """The relay cannot be reached, or does not serve MonitoringService."""

    def __init__(self, address: str, details: str) -> None:
        super().__init__(
            500,
            f"P2P subsystem not available: cannot reach the relay at {address} ({details})",
            "api_error",
        )
        self.address = address
        self.details = details


@dataclass(frozen=True, slots=True)
class NodeInfo:
    node_id: str
    display_name: str
    transport: str
    peer: str
    models: list[str]
    slots: int
    slots_in_use: int
    queued_jobs: int
    connected_at: datetime | None
    last_seen: datetime | None
    online: bool
    connected: bool
    draining: bool
    jobs_completed: int
    jobs_failed: int
    tokens_generated: int
    inventory: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RelayInfo:
    relay_id: str
    address: str
    version: str
    started_at: datetime | None
    last_seen: datetime | None
    online: bool


@dataclass(frozen=True, slots=True)
class ClusterStats:
    workers_online: int = 0
    workers_total: int = 0
    federated_online: int = 0
    federated_total: int = 0
    slots_total: int = 0
    slots_busy: int = 0
    queued_jobs: int = 0
    models_served: int = 0
    jobs_dispatched: int = 0
    jobs_completed: int = 0
    jobs_failed: int = 0
    tokens_generated: int = 0
    online_window_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class MonitoringEvent:
    """One event of the WatchEvents stream: `kind` is the proto oneof name
    (node_joined, node_left, node_offline, node_online, job_dispatched, job_finished)."""

    kind: str
    time: datetime | None
    node_id: str = ""
    job_id: str = ""
    model: str = ""
    reason: str = ""
    outcome: str = ""
    duration_seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class MonitoringClient:
    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float, address: str) -> None:
        self._stub = monitoring_pb2_grpc.MonitoringServiceStub(channel)
        self.timeout_seconds = timeout_seconds
        self.address = address

    async def list_nodes(self) -> list[NodeInfo]:
        reply = await self._call(self._stub.ListNodes, monitoring_pb2.ListNodesRequest())
        return [node_info(node) for node in reply.nodes]

    async def list_relays(self) -> list[RelayInfo]:
        reply = await self._call(self._stub.ListRelays, monitoring_pb2.ListRelaysRequest())
        return [relay_info(relay) for relay in reply.relays]

    async def cluster_stats(self) -> ClusterStats:
        reply = await self._call(
            self._stub.GetClusterStats, monitoring_pb2.GetClusterStatsRequest()
        )
        return cluster_stats(reply.stats)

    async def join_token(self, operator_token: str) -> str:
        """Operator-gated; NOT_FOUND (404) when the relay admits nodes without a token."""
        reply = await self._call(
            self._stub.GetJoinToken,
            monitoring_pb2.GetJoinTokenRequest(),
            operator_metadata(operator_token),
        )
        return reply.join_token

    async def watch_events(self) -> AsyncIterator[MonitoringEvent]:
        """The live event stream, until the relay ends it (no deadline)."""
        stream = self._stub.WatchEvents(monitoring_pb2.WatchEventsRequest())
        try:
            async for reply in stream:
                yield monitoring_event(reply.event)
        except grpc.aio.AioRpcError as error:
            raise self._api_error(error) from None
        finally:
            stream.cancel()

    async def _call(self, method: Any, request: Any, metadata: Any = ()) -> Any:
        try:
            return await method(request, timeout=self.timeout_seconds, metadata=metadata)
        except grpc.aio.AioRpcError as error:
            raise self._api_error(error) from None

    def _api_error(self, error: grpc.aio.AioRpcError) -> APIError:
        if error.code() in UNREACHABLE_CODES and relay_error_info(error) is None:
            return RelayUnreachable(self.address, error.details() or error.code().name)
        return from_rpc_error(error)


def timestamp(stamp: timestamp_pb2.Timestamp) -> datetime | None:
    """A set protobuf Timestamp as an aware UTC datetime; unset (epoch) is None."""
    return stamp.ToDatetime(tzinfo=UTC) if stamp.seconds or stamp.nanos else None


def node_info(node: monitoring_pb2.NodeStatus) -> NodeInfo:
    return NodeInfo(
        node_id=node.node_id,
        display_name=node.display_name,
        transport=node.transport,
        peer=node.peer,
        models=list(node.models),
        slots=node.slots,
        slots_in_use=node.slots_in_use,
        queued_jobs=node.queued_jobs,
        connected_at=timestamp(node.connected_at),
        last_seen=timestamp(node.last_seen),
        online=node.online,
        connected=node.connected,
        draining=node.draining,
        jobs_completed=node.jobs_completed,
        jobs_failed=node.jobs_failed,
        tokens_generated=node.tokens_generated,
        inventory=json_format.MessageToDict(
            node.inventory,
            preserving_proto_field_name=True,
            always_print_fields_with_no_presence=True,
        ),
    )


def relay_info(relay: monitoring_pb2.RelayStatus) -> RelayInfo:
    return RelayInfo(
        relay_id=relay.relay_id,
        address=relay.address,
        version=relay.version,
        started_at=timestamp(relay.started_at),
        last_seen=timestamp(relay.last_seen),
        online=relay.online,
    )


def cluster_stats(stats: monitoring_pb2.ClusterStats) -> ClusterStats:
    return ClusterStats(
        workers_online=stats.workers_online,
        workers_total=stats.workers_total,
        federated_online=stats.federated_online,
        federated_total=stats.federated_total,
        slots_total=stats.slots_total,
        slots_busy=stats.slots_busy,
        queued_jobs=stats.queued_jobs,
        models_served=stats.models_served,
        jobs_dispatched=stats.jobs_dispatched,
        jobs_completed=stats.jobs_completed,
        jobs_failed=stats.jobs_failed,
        tokens_generated=stats.tokens_generated,
        online_window_seconds=stats.online_window.ToTimedelta().total_seconds(),
    )


def monitoring_event(event: monitoring_pb2.MonitoringEvent) -> MonitoringEvent:
    kind = event.WhichOneof("kind") or ""
    when = timestamp(event.time)
    if not kind:
        return MonitoringEvent(kind="", time=when)
    body = getattr(event, kind)
    fields: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("node_id", "job_id", "model", "reason", "prompt_tokens", "completion_tokens")
        if name in body.DESCRIPTOR.fields_by_name
    }
    if kind == "job_finished":
        fields["outcome"] = OUTCOMES.get(body.outcome, "unknown")
        fields["duration_seconds"] = body.duration.ToTimedelta().total_seconds()
    return MonitoringEvent(kind=kind, time=when, **fields)
