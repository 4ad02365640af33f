"""Monitoring views and events -> tokenplace.v1 monitoring messages."""

from __future__ import annotations

from typing import Any

from google.protobuf import duration_pb2, timestamp_pb2

from tokenplace.relay.events import (
    Event,
    JobDispatched,
    JobFinished,
    JobOutcomeKind,
    NodeJoined,
    NodeLeft,
    NodeOffline,
    NodeOnline,
    Stamped,
)
from tokenplace.relay.monitoring import ClusterView, NodeView, RelayIdentity
from tokenplace.v1 import common_pb2, monitoring_pb2

_OUTCOMES = {
    JobOutcomeKind.COMPLETED: monitoring_pb2.JOB_OUTCOME_KIND_COMPLETED,
    JobOutcomeKind.FAILED: monitoring_pb2.JOB_OUTCOME_KIND_FAILED,
    JobOutcomeKind.CANCELLED: monitoring_pb2.JOB_OUTCOME_KIND_CANCELLED,
    JobOutcomeKind.NODE_LOST: monitoring_pb2.JOB_OUTCOME_KIND_NODE_LOST,
    JobOutcomeKind.DEADLINE_EXCEEDED: monitoring_pb2.JOB_OUTCOME_KIND_DEADLINE_EXCEEDED,
}
_INVENTORY_FIELDS = frozenset(common_pb2.NodeInventory.DESCRIPTOR.fields_by_name)


def timestamp(unix_seconds: float) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(int(unix_seconds * 1e9))
    return stamp


def duration(seconds: float) -> duration_pb2.Duration:
    span = duration_pb2.Duration()
    span.FromNanoseconds(int(max(seconds, 0.0) * 1e9))
    return span


def inventory_to_pb(inventory: dict[str, Any]) -> common_pb2.NodeInventory:
    return common_pb2.NodeInventory(
        **{key: value for key, value in inventory.items() if key in _INVENTORY_FIELDS}
    )


def node_to_pb(node: NodeView) -> monitoring_pb2.NodeStatus:
    return monitoring_pb2.NodeStatus(
        node_id=node.node_id,
        display_name=node.display_name,
        transport=node.transport,
        peer=node.peer,
        models=node.models,
        slots=node.slots,
        slots_in_use=node.slots_in_use,
        queued_jobs=node.queued_jobs,
        connected_at=timestamp(node.connected_at),
        last_seen=timestamp(node.last_seen),
        online=node.online,
        connected=node.connected,
        draining=node.draining,
        inventory=inventory_to_pb(node.inventory),
        jobs_completed=node.counters.jobs_completed,
        jobs_failed=node.counters.jobs_failed,
        tokens_generated=node.counters.tokens_generated,
    )


def relay_to_pb(relay: RelayIdentity, now: float) -> monitoring_pb2.RelayStatus:
    """This relay, answering now: seen now and online by definition."""
    return monitoring_pb2.RelayStatus(
        relay_id=relay.relay_id,
        address=relay.address,
        version=relay.version,
        started_at=timestamp(relay.started_at),
        last_seen=timestamp(now),
        online=True,
    )


def cluster_to_pb(
    cluster: ClusterView, relays_online: int, relays_total: int, window_seconds: float
) -> monitoring_pb2.ClusterStats:
    counters = cluster.counters
    return monitoring_pb2.ClusterStats(
        workers_online=cluster.workers_online,
        workers_total=cluster.workers_total,
        federated_online=relays_online,
        federated_total=relays_total,
        slots_total=cluster.slots_total,
        slots_busy=cluster.slots_busy,
        queued_jobs=cluster.queued_jobs,
        models_served=cluster.models_served,
        jobs_dispatched=counters.jobs_dispatched,
        jobs_completed=counters.jobs_completed,
        jobs_failed=counters.jobs_failed,
        tokens_generated=counters.tokens_generated,
        online_window=duration(window_seconds),
    )


def event_to_pb(stamped: Stamped) -> monitoring_pb2.MonitoringEvent:
    message = monitoring_pb2.MonitoringEvent(time=timestamp(stamped.time))
    _fill(message, stamped.event)
    return message


def _fill(message: monitoring_pb2.MonitoringEvent, event: Event) -> None:
    if isinstance(event, NodeJoined):
        message.node_joined.CopyFrom(
            monitoring_pb2.NodeJoined(
                node_id=event.node_id,
                display_name=event.display_name,
                models=event.models,
                slots=event.slots,
                transport=event.transport,
            )
        )
    elif isinstance(event, NodeLeft):
        message.node_left.CopyFrom(
            monitoring_pb2.NodeLeft(node_id=event.node_id, reason=event.reason)
        )
    elif isinstance(event, NodeOffline):
        message.node_offline.CopyFrom(
            monitoring_pb2.NodeOffline(
                node_id=event.node_id, silent_for=duration(event.silent_for_seconds)
            )
        )
    elif isinstance(event, NodeOnline):
        message.node_online.CopyFrom(monitoring_pb2.NodeOnline(node_id=event.node_id))
    elif isinstance(event, JobDispatched):
        message.job_dispatched.CopyFrom(
            monitoring_pb2.JobDispatched(
                job_id=event.job_id,
                node_id=event.node_id,
                model=event.model,
                queued_for=duration(event.queued_for_seconds),
            )
        )
    elif isinstance(event, JobFinished):
        message.job_finished.CopyFrom(_job_finished(event))
    else:
        raise TypeError(f"unknown monitoring event {type(event).__name__}")


def _job_finished(event: JobFinished) -> monitoring_pb2.JobFinished:
    return monitoring_pb2.JobFinished(
        job_id=event.job_id,
        node_id=event.node_id,
        model=event.model,
        outcome=_OUTCOMES[event.outcome],
        duration=duration(event.duration_seconds),
        prompt_tokens=event.prompt_tokens,
        completion_tokens=event.completion_tokens,
    )
